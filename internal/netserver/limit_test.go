package netserver

import (
	"bufio"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

// dialFrom connects to addr from the local address from (127.0.0.2 is loopback on Linux too).
func dialFrom(t *testing.T, from, addr string) *client {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Skipf("cannot connect from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{t: t, c: c, r: bufio.NewReader(c)}
}

func TestAddressKey(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"192.0.2.7:25", "192.0.2.7/32"},
		{"[::ffff:192.0.2.7]:25", "192.0.2.7/32"},
		{"[2001:db8:1:2:3:4:5:6]:25", "2001:db8:1:2::/64"},
		{"[2001:db8:1:2:ffff::1]:993", "2001:db8:1:2::/64"},
	} {
		ap := netip.MustParseAddrPort(tc.addr)
		got := AddressKey(net.TCPAddrFromAddrPort(ap))
		if got.String() != tc.want {
			t.Errorf("AddressKey(%s) = %s, want %s", tc.addr, got, tc.want)
		}
	}
}

// TestMaxPerAddress: the connection over the limit from one address is refused while another
// address is still served, and the slot is free again when a connection ends.
func TestMaxPerAddress(t *testing.T) {
	_, addr := echoServerWith(t, func(s *Server) { s.MaxPerAddress = 2 })
	first := dialFrom(t, "127.0.0.1", addr)
	first.expect("hello")
	dialFrom(t, "127.0.0.1", addr).expect("hello")
	over := dialFrom(t, "127.0.0.1", addr)
	over.expect("busy here")
	over.expect("EOF")
	dialFrom(t, "127.0.0.2", addr).expect("hello")
	first.c.Close()
	waitServed(t, func() *client { return dialFrom(t, "127.0.0.1", addr) })
}

// TestLoginTimeout: before LoggedIn, a silent session, one that trickles a line byte by byte
// and one that sends line after line are all closed LoginTimeout after they connected; after
// it, IdleTimeout applies.
func TestLoginTimeout(t *testing.T) {
	_, addr := echoServerWith(t, func(s *Server) {
		s.LoginTimeout = time.Second
		s.IdleTimeout = time.Hour
	})
	silent := dial(t, addr)
	silent.expect("hello")
	silent.expect("EOF")

	trickle := dial(t, addr)
	trickle.expect("hello")
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		_, _ = io.Copy(io.Discard, trickle.r)
	}()
	// One byte every 50 ms, never a line end: each byte comes well within the timeout, so
	// only a deadline for the whole line ends it.
	deadline := time.Now().Add(30 * time.Second)
	for sent := false; ; {
		select {
		case <-closed:
			sent = true
		case <-time.After(50 * time.Millisecond):
			_, _ = trickle.c.Write([]byte("x"))
		}
		if sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a trickling client is still connected after 30 s")
		}
	}

	// Whole lines before the login do not extend the login deadline.
	chatty := dial(t, addr)
	chatty.expect("hello")
	for {
		_, _ = io.WriteString(chatty.c, "noop\r\n")
		_ = chatty.c.SetReadDeadline(time.Now().Add(10 * time.Second))
		line, err := chatty.r.ReadString('\n')
		if err != nil {
			break
		}
		if line != "noop\r\n" {
			t.Fatalf("got %q", line)
		}
		if time.Now().After(deadline) {
			t.Fatal("a client sending lines before login is still connected after 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	user := dial(t, addr)
	loginDeadline := time.Now().Add(time.Second)
	user.expect("hello")
	io.WriteString(user.c, "login\r\n")
	user.expect("login")
	// Logged in, the session waits for IdleTimeout: it is still there after the login
	// deadline has passed.
	time.Sleep(time.Until(loginDeadline) + 500*time.Millisecond)
	io.WriteString(user.c, "still\r\n")
	user.expect("still")
}
