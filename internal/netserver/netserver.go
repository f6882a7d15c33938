// Package netserver is the connection layer of every posthorn listener: the accept loop,
// limits on simultaneous connections (in total and per client address, see Limiter) with
// their refusal lines, the login and idle deadlines of a command line, and a graceful
// shutdown that says goodbye to every session as soon as it waits for a command, waits for the
// ones at work until the caller's deadline, and then closes what is left.
//
// Timeouts: until its session calls LoggedIn, a connection must have logged in within
// LoginTimeout of its start (60 seconds by default; a protocol without a login, the SMTP MX,
// turns it off): every command line before the login must be complete by then, so neither
// NOOPs nor a line trickled a byte a second keep it longer. After the login, a session that
// waits for a command must deliver the whole line within IdleTimeout, counted from the moment
// it started to wait and not renewed by each byte.
//
// A protocol server sets the fields of a Server and uses it in one of two modes:
//
//   - Serve (IMAP, POP3) runs Handle in a goroutine per connection with a *Conn, whose session
//     calls Waiting before it reads a command and Working after; while it waits, Shutdown may
//     call its Goodbye and close the connection. A session is working (not to be interrupted)
//     from its start until its first Waiting.
//   - Server.Listener (SMTP, whose accept loop is go-smtp's) runs the same accept step for whoever
//     calls Accept on the listener it returns and hands the connection out instead of running
//     Handle (handoff.go). ConnOf finds the *Conn of a handed-out connection, whose session
//     calls Working when a transaction starts and Waiting when it has ended; the connection's
//     read deadlines are held to the login deadline until LoggedIn, and its Close ends it for
//     the Server.
//
// In both modes Admit may refuse a connection within the limits before its session starts
// (SMTP's connection filter), Metrics counts the connections, and Shutdown is the same. Writer
// and ReadLine are what a line-based session needs to write responses and read lines.
// The Listener type (limit.go), not to be confused with Server.Listener, puts the limits alone
// in front of an accept loop that needs no more (net/http's).
package netserver

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Server accepts connections and runs them. Set the fields, then call Serve.
type Server struct {
	// MaxConnections refuses connections over it with Refused; 0 means no limit.
	MaxConnections int
	// MaxPerAddress refuses a connection from a client address (AddressKey) that holds that
	// many already, with RefusedPerAddress; 0 means no limit.
	MaxPerAddress int
	// Refused is written to a connection over MaxConnections, RefusedPerAddress to one over
	// MaxPerAddress, ShuttingDown to one accepted while Shutdown runs; each a whole response
	// line with CRLF.
	Refused, RefusedPerAddress, ShuttingDown string
	// LoginTimeout bounds the time from a connection's start to its session's LoggedIn;
	// default (0): DefaultLoginTimeout; negative: the protocol has no login (an SMTP MX) and
	// a connection has no login deadline. IdleTimeout is how long a logged-in session waiting
	// for a command may take to send the whole line; 0 leaves the deadline to the session.
	LoginTimeout, IdleTimeout time.Duration
	// Admit, when set, decides on a connection within the limits before its session starts
	// (SMTP's connection filter): "" lets it in; anything else is written to the connection, a
	// whole response line with CRLF, and the connection is closed without being counted as
	// accepted or refused.
	Admit func(c net.Conn) string
	// Handle runs one connection until it ends; implicitTLS tells which Serve accepted it. The
	// connection is closed when Handle returns. Listener does without it.
	Handle  func(c *Conn, implicitTLS bool)
	Metrics *Metrics // nil records nothing

	limits Limiter

	mu        sync.Mutex
	conns     map[*Conn]struct{}
	listeners map[net.Listener]struct{}
	closing   bool
	done      chan struct{} // closed when Shutdown starts
	wg        sync.WaitGroup
}

func (s *Server) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conns == nil {
		s.conns = map[*Conn]struct{}{}
		s.listeners = map[net.Listener]struct{}{}
		s.done = make(chan struct{})
		s.limits = Limiter{Max: s.MaxConnections, MaxPerAddress: s.MaxPerAddress}
	}
}

// Serve accepts connections on l until Shutdown, then returns nil; it returns an accept error
// that is not temporary.
func (s *Server) Serve(l net.Listener, implicitTLS bool) error {
	if !s.addListener(l) {
		return nil
	}
	defer s.removeListener(l)
	for {
		conn, release, err := s.accept(l, nil)
		if err != nil {
			if s.isClosing() {
				return nil
			}
			return err
		}
		go func() {
			defer func() {
				_ = conn.NetConn().Close()
				release()
				s.Metrics.closed()
				s.remove(conn)
			}()
			s.Handle(conn, implicitTLS)
		}()
	}
}

// accept is the accept loop's step, shared by Serve and the listeners of Listener: it waits
// for the next connection on l that is within the limits and that Admit lets in, registers
// it, counts it, and returns it with the release of its slot. A connection over a limit, one
// Admit refuses and one accepted during Shutdown get their line and are closed. handOff, when
// set, prepares a connection of a Listener before it is registered.
func (s *Server) accept(l net.Listener, handOff func(*Conn)) (*Conn, func(), error) {
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			var ne net.Error
			if !s.isClosing() && errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return nil, nil, err
		}
		delay = 0
		conn := &Conn{server: s, c: c, busy: true, start: time.Now(), loggedIn: s.LoginTimeout < 0}
		if handOff != nil {
			handOff(conn)
		}
		if !s.add(conn) {
			refuse(c, s.ShuttingDown)
			continue
		}
		release, refusal := s.limits.Acquire(c.RemoteAddr())
		switch refusal {
		case TooManyConnections:
			s.remove(conn)
			s.Metrics.refused()
			refuse(c, s.Refused)
			continue
		case TooManyFromAddress:
			s.remove(conn)
			s.Metrics.refused()
			refuse(c, s.RefusedPerAddress)
			continue
		}
		if s.Admit != nil {
			if line := s.Admit(c); line != "" {
				release()
				s.remove(conn)
				refuse(c, line)
				continue
			}
		}
		s.Metrics.opened()
		return conn, release, nil
	}
}

// addListener registers l for Shutdown to close, unless Shutdown has begun.
func (s *Server) addListener(l net.Listener) bool {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.listeners[l] = struct{}{}
	return true
}

func (s *Server) removeListener(l net.Listener) {
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
}

func (s *Server) loginTimeout() time.Duration {
	if s.LoginTimeout > 0 {
		return s.LoginTimeout
	}
	return DefaultLoginTimeout
}

// refuse writes line and closes c, without waiting long for a client that does not read.
func refuse(c net.Conn, line string) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write([]byte(line))
	_ = c.Close()
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// add registers a connection, unless Shutdown has begun.
func (s *Server) add(c *Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1) // under mu, so never after Shutdown began to wait
	return true
}

func (s *Server) remove(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// Shutdown stops accepting, says goodbye to every session as soon as it waits for a command
// (at once to those waiting now), and waits for the sessions to end until ctx is done; then it
// closes the connections left and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.done)
	}
	for l := range s.listeners {
		_ = l.Close()
	}
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for {
		for _, c := range s.snapshot() {
			c.goodbyeIfWaiting()
		}
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
			for _, c := range s.snapshot() {
				_ = c.NetConn().Close()
			}
			<-finished
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

func (s *Server) snapshot() []*Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	return conns
}

// Conn is one connection and whether its session may be interrupted.
type Conn struct {
	server *Server
	// Goodbye, when set, writes the session's farewell (IMAP "* BYE", POP3 "-ERR") before
	// Shutdown closes a waiting session. It runs on Shutdown's goroutine, while the session
	// goroutine is blocked reading, so it must write only: to the connection, or through the
	// session's buffered writer, which the session does not touch while it waits.
	Goodbye func()

	// mu guards the fields below: Shutdown may interrupt only a session that waits.
	mu       sync.Mutex
	c        net.Conn
	busy     bool
	closed   bool
	loggedIn bool
	start    time.Time // when the connection was accepted
}

// LoggedIn tells the connection that its session has authenticated: from the next command on,
// a command line may take IdleTimeout, and the login deadline is gone.
func (c *Conn) LoggedIn() {
	c.mu.Lock()
	c.loggedIn = true
	c.mu.Unlock()
}

// SetGoodbye replaces Goodbye, for a session that sets or changes its farewell after its
// first Waiting (SMTP at EHLO, after STARTTLS); nil: none.
func (c *Conn) SetGoodbye(goodbye func()) {
	c.mu.Lock()
	c.Goodbye = goodbye
	c.mu.Unlock()
}

// NetConn is the connection, TLS once SetNetConn was called.
func (c *Conn) NetConn() net.Conn {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.c
}

// SetNetConn replaces the connection, after a TLS handshake.
func (c *Conn) SetNetConn(nc net.Conn) {
	c.mu.Lock()
	c.c = nc
	c.mu.Unlock()
}

// Waiting marks the session as waiting for a command and sets the read deadline of the whole
// command line: the login deadline, or IdleTimeout from now once logged in. If the server is shutting down it says
// goodbye instead and returns false: the session must end.
func (c *Conn) Waiting() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.server.done:
		if !c.closed {
			c.closed = true
			c.sayGoodbye()
		}
		return false
	default:
	}
	c.busy = false
	switch {
	case !c.loggedIn:
		_ = c.c.SetReadDeadline(c.start.Add(c.server.loginTimeout()))
	case c.loggedIn && c.server.IdleTimeout > 0:
		_ = c.c.SetReadDeadline(time.Now().Add(c.server.IdleTimeout))
	}
	return !c.closed
}

// Working marks the session as executing a command; false if Shutdown closed it meanwhile.
func (c *Conn) Working() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.busy = true
	return !c.closed
}

// ShuttingDown is closed when Shutdown starts, for sessions that wait on something else than
// a command (IMAP IDLE).
func (c *Conn) ShuttingDown() <-chan struct{} { return c.server.done }

func (c *Conn) goodbyeIfWaiting() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.busy || c.closed {
		return
	}
	c.closed = true
	c.sayGoodbye()
	_ = c.c.Close()
}

// sayGoodbye runs Goodbye with a short write deadline. Called with mu held.
func (c *Conn) sayGoodbye() {
	if c.Goodbye == nil {
		return
	}
	_ = c.c.SetWriteDeadline(time.Now().Add(time.Second))
	c.Goodbye()
}
