package netserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/testutil/conntest"
)

// handOffServer runs a Server in hand-off mode under an accept loop of the test's own, as
// go-smtp's would be. Each connection is greeted with "hello" and its lines are echoed; before
// each line the session sets a read deadline a minute away, as go-smtp sets one per line, so
// that only the login deadline can end it sooner. "slow" is a transaction: Working, "started",
// 300 ms, the echo, then Waiting; "login" calls LoggedIn; "farewell" sets the session's own
// Goodbye ("bye").
func handOffServer(t *testing.T, implicitTLS bool, configure func(*Server)) (*Server, string) {
	t.Helper()
	s := &Server{}
	echoLines(s)
	configure(s)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl := s.Listener(l, implicitTLS)
	served := make(chan error, 1)
	go func() {
		for {
			c, err := hl.Accept()
			if err != nil {
				served <- err
				return
			}
			go handOffSession(c)
		}
	}()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Shutdown(ctx)
		if err := <-served; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Shutdown: %v, want net.ErrClosed", err)
		}
	})
	return s, l.Addr().String()
}

func handOffSession(c net.Conn) {
	defer c.Close()
	conn := ConnOf(c)
	io.WriteString(c, "hello\r\n")
	r := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(time.Minute))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		switch line {
		case "slow\r\n":
			if !conn.Working() {
				return
			}
			io.WriteString(c, "started\r\n")
			time.Sleep(300 * time.Millisecond)
			io.WriteString(c, line)
			if !conn.Waiting() {
				return
			}
			continue
		case "login\r\n":
			conn.LoggedIn()
		case "farewell\r\n":
			conn.SetGoodbye(func() { io.WriteString(c, "bye\r\n") })
		}
		io.WriteString(c, line)
	}
}

// TestHandOffMaxConnections: a connection over the limit gets the refusal line and is counted;
// the slot of a handed-out connection is free again once it is closed.
func TestHandOffMaxConnections(t *testing.T) {
	s, addr := handOffServer(t, false, func(s *Server) { s.MaxConnections = 1 })
	checkMaxConnections(t, s, addr)
}

// TestHandOffMaxPerAddress: the limit per address holds in hand-off mode too.
func TestHandOffMaxPerAddress(t *testing.T) {
	_, addr := handOffServer(t, false, func(s *Server) { s.MaxPerAddress = 2 })
	conntest.CheckPerAddressLimit(t, addr, addr, 2, "hello", "busy here")
}

// TestHandOffAdmit: a connection Admit refuses gets its line and is closed, counted neither as
// accepted nor as refused; the next one is handed out.
func TestHandOffAdmit(t *testing.T) {
	var seen atomic.Int32
	s, addr := handOffServer(t, false, func(s *Server) {
		s.Admit = func(net.Conn) string {
			if seen.Add(1) == 1 {
				return "not you\r\n"
			}
			return ""
		}
	})
	first := dial(t, addr)
	first.expect("not you")
	first.expect("EOF")
	dial(t, addr).expect("hello")
	if got := promtest.ToFloat64(s.Metrics.accepted); got != 1 {
		t.Errorf("accepted connections: %v", got)
	}
	if got := promtest.ToFloat64(s.Metrics.overflow); got != 0 {
		t.Errorf("refused connections: %v", got)
	}
}

// TestHandOffLoginDeadline: the read deadlines a session sets on a handed-out connection are
// held to the login deadline, whether the client is silent, trickles a line or sends line
// after line; LoggedIn lifts it.
func TestHandOffLoginDeadline(t *testing.T) {
	_, addr := handOffServer(t, false, func(s *Server) { s.LoginTimeout = 300 * time.Millisecond })
	conntest.CheckLoginDeadline(t, addr, "noop\r\n")

	_, addr2 := handOffServer(t, false, func(s *Server) { s.LoginTimeout = 3 * time.Second })
	conntest.CheckLoginLiftsDeadline(t, 3*time.Second, func() func() {
		c := dial(t, addr2)
		c.expect("hello")
		io.WriteString(c.c, "login\r\n")
		c.expect("login")
		return func() {
			io.WriteString(c.c, "still\r\n")
			c.expect("still")
		}
	})
}

// TestHandOffShutdown: a waiting connection gets the ShuttingDown line at once and is closed; a
// working one finishes its transaction first and gets it at its Waiting; Shutdown returns when
// both are closed, and Accept returns net.ErrClosed (handOffServer's clean-up checks).
func TestHandOffShutdown(t *testing.T) {
	s, addr := handOffServer(t, false, func(*Server) {})
	checkShutdown(t, s, addr, "closing")
}

// TestHandOffShutdownImplicitTLS: on an implicit-TLS listener a waiting connection has no
// farewell of the Server's (it would be written under the TLS layer) until its session sets
// one.
func TestHandOffShutdownImplicitTLS(t *testing.T) {
	s, addr := handOffServer(t, true, func(*Server) {})
	silent := dial(t, addr)
	silent.expect("hello")
	own := dial(t, addr)
	own.expect("hello")
	io.WriteString(own.c, "farewell\r\n")
	own.expect("farewell")
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	silent.expect("EOF")
	own.expect("bye")
	own.expect("EOF")
}

// TestConnOf: ConnOf finds the Conn of a handed-out connection under TLS too, and nothing for
// another connection.
func TestConnOf(t *testing.T) {
	s := &Server{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hl := s.Listener(l, false)
	defer hl.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	c, err := hl.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	conn := ConnOf(c)
	if conn == nil {
		t.Fatal("no Conn for a handed-out connection")
	}
	if got := ConnOf(tls.Server(c, &tls.Config{})); got != conn {
		t.Errorf("under TLS: %p, want %p", got, conn)
	}
	if got := ConnOf(client); got != nil {
		t.Errorf("another connection: %p", got)
	}
}
