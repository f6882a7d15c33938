// Package conntest checks the connection limits of a listener as a client sees them: dialling
// from a chosen loopback address (127.0.0.2 is loopback on Linux as well as 127.0.0.1), and a
// client that trickles a command line byte by byte.
package conntest

import (
	"bufio"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// Conn is a raw client connection.
type Conn struct {
	net.Conn
	R *bufio.Reader
}

// DialFrom connects to addr from the local address from; the test is skipped when that
// address cannot be bound (a system where only 127.0.0.1 is loopback).
func DialFrom(t testing.TB, from, addr string) *Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return &Conn{Conn: c, R: bufio.NewReader(c)}
}

// ReadLine reads one line, without its line end, within 10 seconds.
func (c *Conn) ReadLine(t testing.TB) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.R.ReadString('\n')
	if err != nil {
		t.Fatalf("read: %v (after %q)", err, line)
	}
	return strings.TrimRight(line, "\r\n")
}

// ExpectClosed checks that the server closes the connection within limit, reading and
// discarding what it still sends.
func (c *Conn) ExpectClosed(t testing.TB, limit time.Duration) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(limit))
	if _, err := io.Copy(io.Discard, c.R); err != nil {
		t.Fatalf("connection still open after %v: %v", limit, err)
	}
}

// Trickle writes one byte of a never-ending command line every interval, each byte well
// within any idle timeout, until the server closes the connection; the test fails if it is
// still open after limit.
func (c *Conn) Trickle(t testing.TB, interval, limit time.Duration) {
	t.Helper()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_ = c.SetReadDeadline(time.Now().Add(limit))
		_, _ = io.Copy(io.Discard, c.R)
	}()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			if time.Now().After(deadline) {
				t.Fatalf("a client trickling a line is still connected after %v", limit)
			}
			return
		case <-tick.C:
			_, _ = c.Write([]byte("x"))
		}
	}
}

// KeepSending sends line (a whole command line, with its line end) again and again, reading
// one response line after each, until the server closes the connection; the test fails if it
// is still open after limit.
func (c *Conn) KeepSending(t testing.TB, line string, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := io.WriteString(c, line); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := c.R.ReadString('\n'); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("no response to %q", line)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("a client sending %q again and again is still connected after %v", line, limit)
}

// CheckPerAddressLimit checks a server whose limit per client address is max: max
// connections from 127.0.0.1 are greeted (their first line starts with greeting), the next
// one, on overAddr (another listener of the same server, or addr again), gets a first line
// starting with refusal and is closed, and a connection from 127.0.0.2 is still greeted.
func CheckPerAddressLimit(t testing.TB, addr, overAddr string, max int, greeting, refusal string) {
	t.Helper()
	for i := range max {
		if got := DialFrom(t, "127.0.0.1", addr).ReadLine(t); !strings.HasPrefix(got, greeting) {
			t.Fatalf("connection %d, within the limit: %q", i+1, got)
		}
	}
	over := DialFrom(t, "127.0.0.1", overAddr)
	if got := over.ReadLine(t); !strings.HasPrefix(got, refusal) {
		t.Fatalf("connection %d, over the limit: %q", max+1, got)
	}
	over.ExpectClosed(t, 10*time.Second)
	if got := DialFrom(t, "127.0.0.2", addr).ReadLine(t); !strings.HasPrefix(got, greeting) {
		t.Fatalf("from a second address: %q", got)
	}
}

// CheckLoginDeadline checks a server whose login timeout is short (well under a second): a
// client that says nothing after the greeting, one that trickles a command line byte by byte,
// and one that sends command line (a harmless command, with its line end) again and again
// are all closed.
func CheckLoginDeadline(t testing.TB, addr, command string) {
	t.Helper()
	silent := DialFrom(t, "127.0.0.1", addr)
	silent.ReadLine(t)
	silent.ExpectClosed(t, 10*time.Second)

	trickle := DialFrom(t, "127.0.0.1", addr)
	trickle.ReadLine(t)
	trickle.Trickle(t, 50*time.Millisecond, 30*time.Second)

	chatty := DialFrom(t, "127.0.0.1", addr)
	chatty.ReadLine(t)
	chatty.KeepSending(t, command, 30*time.Second)
}

// CheckLoginLiftsDeadline checks that a login lifts the login deadline: login opens a
// connection to a server whose login timeout is loginTimeout (a few seconds, so that the
// login itself fits in it on a loaded machine), logs in and returns a function that sends one
// command and checks its answer; that command still works after the login deadline passed.
func CheckLoginLiftsDeadline(t testing.TB, loginTimeout time.Duration, login func() (command func())) {
	t.Helper()
	loginDeadline := time.Now().Add(loginTimeout)
	command := login()
	time.Sleep(time.Until(loginDeadline) + 500*time.Millisecond)
	command()
}
