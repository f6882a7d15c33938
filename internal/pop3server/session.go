package pop3server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"posthorn/internal/netserver"
	"posthorn/internal/store"
)

// Buffer sizes of a connection: small, so an idle session costs little.
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 4 << 10
	// maxLine bounds a command line and a SASL response. RFC 2449 §4 limits commands to 255
	// octets; longer lines are accepted up to here for long user names and passwords.
	maxLine = 8 << 10
	// maxBadCommands ends a session after that many unknown, malformed or misplaced commands.
	maxBadCommands = 20
)

// state is a session's POP3 state (RFC 1939 §3); the UPDATE state is the QUIT handler's work.
type state uint8

const (
	stateAuthorization state = 1 << iota
	stateTransaction
)

// session is one POP3 connection. Its goroutine reads a command, executes it, writes the
// response, and so on; responses are flushed when no further command is waiting in the read
// buffer, so pipelined commands (RFC 2449 §6.6) are answered in order in few writes.
type session struct {
	server *Server
	conn   *netserver.Conn
	nc     net.Conn // the connection, TLS after STLS
	cw     *netserver.Writer
	br     *bufio.Reader
	bw     *bufio.Writer
	id     string
	remote netip.Addr
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	tls    bool

	state   state
	user    string // the name of USER, until PASS
	account store.Account
	drop    *maildrop      // in the TRANSACTION state; the account's lock is held
	lease   *maildropLease // the shared maildrop lock, with Server.Leases
	bad     int            // bad commands so far
}

// connError is a failure of the connection itself: the session ends.
type connError struct{ err error }

func (e *connError) Error() string { return "connection: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// errReply is a negative response: "-ERR [code] text" (RFC 2449 §8 response codes). bad marks
// a command that was not understood or not allowed, which counts towards maxBadCommands.
type errReply struct {
	code, text string
	bad        bool
}

func (e *errReply) Error() string { return e.text }

func errorf(code, format string, args ...any) error {
	return &errReply{code: code, text: fmt.Sprintf(format, args...)}
}

func badf(format string, args ...any) error {
	return &errReply{text: fmt.Sprintf(format, args...), bad: true}
}

// errQuit ends the session after QUIT's response.
var errQuit = errors.New("quit")

func newSession(srv *Server, c *netserver.Conn, id string) *session {
	nc := c.NetConn()
	remote := netip.Addr{}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		remote = ap.Addr().Unmap()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		server: srv,
		conn:   c,
		nc:     nc,
		cw:     &netserver.Writer{Conn: nc},
		id:     id,
		remote: remote,
		logger: srv.Logger.With("conn", id, "proto", "pop3", "remote", remote.String()),
		ctx:    ctx,
		cancel: cancel,
		state:  stateAuthorization,
	}
	s.br = bufio.NewReaderSize(nc, readBufferSize)
	s.bw = bufio.NewWriterSize(s.cw, writeBufferSize)
	// Shutdown says goodbye while the session waits for a command; the session does not
	// touch bw then. No UPDATE state: a session ended this way deletes nothing.
	c.Goodbye = func() {
		s.bw.WriteString("-ERR [SYS/TEMP] server shutting down\r\n")
		_ = s.bw.Flush()
	}
	return s
}

// run serves the connection until QUIT, an error, a timeout or shutdown.
func (s *session) run() {
	defer s.close()
	s.logger.Debug("session started", "tls", s.tls)
	// No timestamp in the greeting: APOP is not offered (RFC 1939 §7).
	s.ok("%s posthorn POP3 ready", s.server.Hostname)
	for {
		if s.br.Buffered() == 0 {
			if err := s.bw.Flush(); err != nil {
				return
			}
		}
		if s.state == stateTransaction {
			s.conn.LoggedIn()
		}
		// The whole command line must come within the login or idle timeout (netserver).
		if !s.conn.Waiting() {
			return
		}
		line, err := s.readLine()
		if !s.conn.Working() {
			return
		}
		_ = s.nc.SetWriteDeadline(time.Now().Add(writeTimeout))
		if !s.execute(line, err) {
			_ = s.bw.Flush()
			return
		}
	}
}

// close releases the maildrop lock (a session that did not QUIT deletes nothing) and the
// connection.
func (s *session) close() {
	s.release()
	s.cancel()
	if err := s.nc.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.logger.Debug("close connection", "err", err)
	}
	s.logger.Debug("session ended")
}

// release gives up the maildrop and its lock.
func (s *session) release() {
	if s.drop != nil {
		s.releaseLock(s.account.ID)
		s.drop = nil
	}
}

// releaseLock gives up the maildrop lock: the shared one first, then this server's.
func (s *session) releaseLock(accountID int64) {
	if s.lease != nil {
		s.lease.release(s.server)
		s.lease = nil
	}
	s.server.unlock(accountID)
}

// execute runs one command line and writes its response. It returns false when the session
// must end.
func (s *session) execute(line string, readErr error) bool {
	start := time.Now()
	cmd, err := command{}, readErr
	if err == nil {
		cmd, err = parseCommand(line)
	}
	var spec commandSpec
	if err == nil {
		spec = commands[cmd.name]
		if spec.states&s.state == 0 {
			err = s.wrongState(cmd.name)
		}
	}
	if err == nil {
		err = spec.run(s, cmd.args)
	}
	status := "OK"
	var reply *errReply
	var ce *connError
	switch {
	case err == nil:
	case errors.Is(err, errQuit):
		s.server.Metrics.command(cmd.name, status)
		return false
	case errors.As(err, &ce):
		s.logger.Debug("connection failed", "cmd", cmd.name, "err", ce.err)
		return false
	case errors.As(err, &reply):
		status = "ERR"
		s.writeErr(reply)
	default:
		status = "ERR"
		s.logger.Error("command failed", "cmd", cmd.name, "err", err)
		s.writeErr(failure(err))
	}
	s.server.Metrics.command(cmd.name, status)
	s.logger.Debug("command", "cmd", cmd.name, "status", status, "took", time.Since(start))
	if reply != nil && reply.bad {
		if s.bad++; s.bad >= maxBadCommands {
			s.writeErr(&errReply{text: "too many bad commands, closing connection"})
			return false
		}
	}
	return s.cw.Err == nil
}

// failure is the answer to a command that failed with err, an error that is no reply: a store
// that does not answer (store.IsTemporary: a lost database, a cut connection) and any other
// failure of the server are -ERR [SYS/TEMP] (RFC 3206 §4: try again later), never a refusal;
// the session keeps nothing of it, and its next command asks the store again.
func failure(err error) *errReply {
	if store.IsTemporary(err) {
		return &errReply{code: "SYS/TEMP", text: "the mail store is not available now, try again later"}
	}
	return &errReply{code: "SYS/TEMP", text: "internal error, try again later"}
}

// wrongState is the answer to a command not valid in the session's state.
func (s *session) wrongState(name string) error {
	if s.state == stateAuthorization {
		return badf("%s: log in first", name)
	}
	return badf("%s: already logged in", name)
}

// ok writes a positive response line; an empty format writes "+OK" alone.
func (s *session) ok(format string, args ...any) {
	s.bw.WriteString("+OK")
	if format != "" {
		s.bw.WriteByte(' ')
		fmt.Fprintf(s.bw, format, args...)
	}
	s.bw.WriteString("\r\n")
}

// writeErr writes a negative response line, with its response code (RFC 2449 §8) if any.
func (s *session) writeErr(r *errReply) {
	s.bw.WriteString("-ERR ")
	if r.code != "" {
		s.bw.WriteString("[" + r.code + "] ")
	}
	s.bw.WriteString(strings.ToValidUTF8(r.text, "?"))
	s.bw.WriteString("\r\n")
}

// startTLS wraps the connection in TLS and performs the handshake. Whatever the client sent
// after STLS in clear is discarded (RFC 2595 §4 and §3.1: no command injection).
func (s *session) startTLS() error {
	tc := tls.Server(s.nc, s.server.TLSConfig)
	_ = s.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return err
	}
	_ = s.nc.SetDeadline(time.Time{})
	s.nc = tc
	s.cw.Conn = tc
	s.br.Reset(tc)
	s.conn.SetNetConn(tc)
	s.tls = true
	return nil
}

// readLine reads one line, a command or a SASL response, without its line end (CRLF or a bare
// LF). A line longer than maxLine is read to its end and refused.
func (s *session) readLine() (string, error) {
	line, err := netserver.ReadLine(s.br, maxLine)
	switch {
	case errors.Is(err, netserver.ErrLineTooLong):
		return "", badf("line too long")
	case err != nil:
		return "", &connError{err}
	}
	return line, nil
}

// plaintextAuthAllowed reports whether USER/PASS and AUTH PLAIN may be used now: over TLS, or
// on a loopback connection when the server allows it.
func (s *session) plaintextAuthAllowed() bool {
	return s.tls || s.server.AllowInsecureAuth && s.remote.IsLoopback()
}
