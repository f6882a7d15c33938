package netserver

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"
)

// Listener is the hand-off mode of the Server, for a protocol whose accept loop is a
// library's (SMTP on go-smtp, whose Server.Serve takes a net.Listener and has no entry point
// per connection). Each Accept on the returned listener runs the accept step of Serve on l
// (the limits and their refusal lines, Admit, the refusal during Shutdown, Metrics, the
// registration for Shutdown) and returns the connection to the caller instead of running
// Handle in a goroutine.
//
// The net.Conn handed out is the Server's: ConnOf finds its *Conn, under a TLS layer too. Its
// Close ends the connection for the Server (frees its slot, counts it closed, and lets
// Shutdown stop waiting for it), and until its session calls LoggedIn, every read deadline set
// on it is held to the login deadline, which is also its first read deadline.
//
// A handed-out connection waits from the start: its session calls Working when it begins what
// Shutdown must not interrupt (an SMTP transaction) and Waiting when that has ended. Its
// farewell, until the session sets its own with SetGoodbye, is the ShuttingDown line, except
// on an implicit-TLS listener (implicitTLS), where a line written under the TLS layer would
// be garbage to the client: there Shutdown closes a waiting connection without a word.
func (s *Server) Listener(l net.Listener, implicitTLS bool) net.Listener {
	return &handOffListener{Listener: l, server: s, implicitTLS: implicitTLS, open: s.addListener(l)}
}

type handOffListener struct {
	net.Listener
	server      *Server
	implicitTLS bool
	open        bool // false: Shutdown had begun when the listener was made
}

// Accept returns the next connection within the limits; after Shutdown, net.ErrClosed.
func (h *handOffListener) Accept() (net.Conn, error) {
	if !h.open {
		return nil, net.ErrClosed
	}
	conn, release, err := h.server.accept(h.Listener, h.prepare)
	if err != nil {
		if h.server.isClosing() {
			return nil, net.ErrClosed
		}
		return nil, err
	}
	hc := &handedConn{Conn: conn.c, conn: conn, release: release}
	if !conn.loggedIn {
		if err := hc.Conn.SetReadDeadline(conn.readDeadline(time.Time{})); err != nil {
			_ = hc.Close()
			return nil, err
		}
	}
	return hc, nil
}

// prepare makes a new connection a waiting one, with the default farewell.
func (h *handOffListener) prepare(c *Conn) {
	c.busy = false
	if line := h.server.ShuttingDown; line != "" && !h.implicitTLS {
		nc := c.c
		c.Goodbye = func() { _, _ = io.WriteString(nc, line) }
	}
}

// Close stops the listener; the connections it handed out stay open.
func (h *handOffListener) Close() error {
	h.server.removeListener(h.Listener)
	return h.Listener.Close()
}

// handedConn is a connection handed out by a Listener.
type handedConn struct {
	net.Conn
	conn    *Conn
	release func()
	once    sync.Once
}

// Close closes the connection and ends it for the Server; only the first call does so.
func (c *handedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.release()
		c.conn.server.Metrics.closed()
		c.conn.server.remove(c.conn)
	})
	return err
}

// SetReadDeadline sets t, or the login deadline if that comes first.
func (c *handedConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.conn.readDeadline(t))
}

// SetDeadline sets the write deadline t and the read deadline as SetReadDeadline does.
func (c *handedConn) SetDeadline(t time.Time) error {
	if err := c.Conn.SetWriteDeadline(t); err != nil {
		return err
	}
	return c.SetReadDeadline(t)
}

// ConnOf is the *Conn of a connection that a Listener handed out, seen through a *tls.Conn
// (STARTTLS, implicit TLS); nil for any other connection.
func ConnOf(nc net.Conn) *Conn {
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	if hc, ok := nc.(*handedConn); ok {
		return hc.conn
	}
	return nil
}

// readDeadline is t held to the login deadline while the session has not logged in; the zero
// t (no deadline) becomes the login deadline.
func (c *Conn) readDeadline(t time.Time) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.loggedIn {
		return t
	}
	if by := c.start.Add(c.server.loginTimeout()); t.IsZero() || t.After(by) {
		return by
	}
	return t
}
