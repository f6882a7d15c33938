package netserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"
)

// echoServer runs a Server whose sessions greet with "hello", then answer each line with the
// line, waiting for a command in between; a line "slow" is answered "started" at once and then
// takes 300 ms to answer.
func echoServer(t *testing.T, max int) (*Server, string) {
	t.Helper()
	return echoServerWith(t, func(s *Server) { s.MaxConnections = max })
}

// echoServerWith is echoServer with the limits that configure sets; a line "login" marks the
// session logged in.
func echoServerWith(t *testing.T, configure func(*Server)) (*Server, string) {
	t.Helper()
	s := &Server{
		Handle: func(c *Conn, _ bool) {
			nc := c.NetConn()
			c.Goodbye = func() { io.WriteString(nc, "bye\r\n") }
			io.WriteString(nc, "hello\r\n")
			r := bufio.NewReader(nc)
			for c.Waiting() {
				line, err := r.ReadString('\n')
				if !c.Working() || err != nil {
					return
				}
				switch line {
				case "slow\r\n":
					io.WriteString(nc, "started\r\n")
					time.Sleep(300 * time.Millisecond)
				case "login\r\n":
					c.LoggedIn()
				}
				io.WriteString(nc, line)
			}
		},
	}
	echoLines(s)
	configure(s)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l, false) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return s, l.Addr().String()
}

// echoLines sets the refusal lines and the metrics of the test servers.
func echoLines(s *Server) {
	s.Refused = "busy\r\n"
	s.RefusedPerAddress = "busy here\r\n"
	s.ShuttingDown = "closing\r\n"
	s.Metrics = NewMetrics(prometheus.NewRegistry(), "echo", "Echo")
}

type client struct {
	t *testing.T
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func (c *client) expect(want string) {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil && want != "EOF" || err == nil && line != want+"\r\n" {
		c.t.Fatalf("got %q, %v; want %q", line, err, want)
	}
}

func TestMaxConnections(t *testing.T) {
	s, addr := echoServer(t, 1)
	checkMaxConnections(t, s, addr)
}

// checkMaxConnections checks a server whose MaxConnections is 1: a second connection gets the
// refusal line and is counted, and the slot is free again once the first connection has ended.
func checkMaxConnections(t *testing.T, s *Server, addr string) {
	t.Helper()
	a := dial(t, addr)
	a.expect("hello")
	b := dial(t, addr)
	b.expect("busy")
	b.expect("EOF")
	if got := promtest.ToFloat64(s.Metrics.overflow); got != 1 {
		t.Errorf("refused connections: %v", got)
	}
	if got := promtest.ToFloat64(s.Metrics.accepted); got != 1 {
		t.Errorf("accepted connections: %v", got)
	}
	if got := promtest.ToFloat64(s.Metrics.active); got != 1 {
		t.Errorf("open connections: %v", got)
	}
	a.c.Close()
	waitServed(t, func() *client { return dial(t, addr) })
}

// waitServed dials until a connection is greeted, failing after 10 seconds.
func waitServed(t *testing.T, dial func() *client) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c := dial()
		_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, _ := c.r.ReadString('\n')
		if line == "hello\r\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still refused: %q", line)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdown: a waiting session gets its goodbye at once; a working one finishes its command
// first and gets it then; Shutdown returns when both are gone and Serve returns nil.
func TestShutdown(t *testing.T) {
	s, addr := echoServer(t, 0)
	checkShutdown(t, s, addr, "bye")
}

// checkShutdown checks Shutdown on a server whose sessions say goodbye, and whose "slow"
// command takes 300 ms: a waiting session gets goodbye at once, a working one after its
// command, Shutdown returns when both are gone and counts no connection open, and nothing is
// accepted any more.
func checkShutdown(t *testing.T, s *Server, addr, goodbye string) {
	t.Helper()
	idle := dial(t, addr)
	idle.expect("hello")
	busy := dial(t, addr)
	busy.expect("hello")
	// Taken before the command is sent, so that a Shutdown that waits for it takes at least its
	// 300 ms however late this goroutine runs.
	start := time.Now()
	io.WriteString(busy.c, "slow\r\n")
	busy.expect("started") // the slow command is running
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 200*time.Millisecond {
		t.Errorf("Shutdown returned after %v, before the slow command ended", took)
	}
	idle.expect(goodbye)
	idle.expect("EOF")
	busy.expect("slow")
	busy.expect(goodbye)
	busy.expect("EOF")
	if got := promtest.ToFloat64(s.Metrics.active); got != 0 {
		t.Errorf("open connections after Shutdown: %v", got)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("still accepting after Shutdown")
	}
}

// TestShutdownDeadline: a session that does not finish in time is closed when ctx ends.
func TestShutdownDeadline(t *testing.T) {
	s, addr := echoServer(t, 0)
	busy := dial(t, addr)
	busy.expect("hello")
	io.WriteString(busy.c, "slow\r\n")
	busy.expect("started")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want the deadline", err)
	}
	_ = busy.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, _ := io.ReadAll(busy.r)
	if strings.Contains(string(rest), "bye") {
		t.Errorf("a session cut off at the deadline got a goodbye: %q", rest)
	}
}
