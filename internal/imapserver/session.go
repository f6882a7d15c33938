package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"posthorn/internal/netserver"
	"posthorn/internal/store"
)

// Buffer sizes of a connection: small, so an idle session costs little (the design's goal is
// tens of KiB per idle connection). A longer command line is gathered by the parser.
const (
	readBufferSize  = 4 << 10
	writeBufferSize = 4 << 10
	// largeWriteBufferSize is the buffer a FETCH of several message bodies borrows, so that
	// the bodies go out in a few large writes instead of one write per 4 KiB.
	largeWriteBufferSize = 64 << 10
)

// session is one IMAP connection. Its goroutine reads a command, executes it, writes its
// responses, and so on; responses are flushed when no further command is waiting in the read
// buffer, so pipelined commands (RFC 9051 §5.5) are answered in order in few writes.
type session struct {
	server *Server
	nc     *netserver.Conn // the connection's limits, deadlines and shutdown
	conn   net.Conn        // the connection, TLS after STARTTLS
	cw     *netserver.Writer
	br     *bufio.Reader
	bw     *bufio.Writer
	p      *parser
	id     string
	remote netip.Addr
	logger *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	tls    bool

	state   sessionState
	account store.Account
	// Extensions the client enabled (RFC 5161 ENABLE).
	condstore, qresync, utf8Accept, rev2 bool

	sel         *selected
	changes     <-chan store.Change // the account's change feed, after login
	unsubscribe func()
	changed     bool // an event arrived since the last check
}

// connError is a failure of the connection itself: the session ends.
type connError struct{ err error }

func (e *connError) Error() string { return "connection: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

func newSession(srv *Server, nc *netserver.Conn, id string) *session {
	c := nc.NetConn()
	remote := netip.Addr{}
	if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
		remote = ap.Addr().Unmap()
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &session{
		server: srv,
		nc:     nc,
		conn:   c,
		cw:     &netserver.Writer{Conn: c},
		id:     id,
		remote: remote,
		logger: srv.Logger.With("conn", id, "proto", "imap", "remote", remote.String()),
		ctx:    ctx,
		cancel: cancel,
		state:  stateNotAuthenticated,
	}
	s.br = bufio.NewReaderSize(c, readBufferSize)
	s.bw = bufio.NewWriterSize(s.cw, writeBufferSize)
	s.p = newParser(s.br, s.continueLiteral)
	// Shutdown says goodbye while the session waits for a command; the session does not
	// touch bw then.
	nc.Goodbye = func() { s.bye("server shutting down") }
	return s
}

// run serves the connection until LOGOUT, an error or shutdown.
func (s *session) run() {
	defer s.close()
	s.logger.Debug("session started", "tls", s.tls)
	fmt.Fprintf(s.bw, "* OK [CAPABILITY %s] %s posthorn IMAP ready\r\n", s.capabilities(), s.server.Hostname)
	for {
		if s.br.Buffered() == 0 {
			if err := s.bw.Flush(); err != nil {
				return
			}
		}
		if s.state != stateNotAuthenticated {
			s.nc.LoggedIn()
		}
		// The whole command line must come by the login deadline, or within the idle
		// timeout once logged in (netserver).
		if !s.nc.Waiting() {
			return
		}
		c, spec, err := parseCommand(s.p)
		if !s.nc.Working() {
			return
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if !s.execute(c, spec, err) {
			_ = s.bw.Flush()
			return
		}
	}
}

// bye writes an untagged BYE (RFC 9051 §7.1.5) and flushes it, with a short deadline.
func (s *session) bye(text string) {
	_ = s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	fmt.Fprintf(s.bw, "* BYE %s\r\n", text)
	_ = s.bw.Flush()
}

func (s *session) close() {
	if s.unsubscribe != nil {
		s.unsubscribe()
	}
	s.cancel()
	if err := s.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		s.logger.Debug("close connection", "err", err)
	}
	s.logger.Debug("session ended")
}

// continueLiteral asks the client for a synchronizing literal (RFC 9051 §7.5).
func (s *session) continueLiteral() error {
	s.bw.WriteString("+ Ready for literal data\r\n")
	return s.bw.Flush()
}

// Handler results that are not failures: errLogout ends the session after LOGOUT's tagged OK;
// errHandled says the handler wrote its tagged response itself (STARTTLS, which must answer
// before the handshake).
var (
	errLogout  = errors.New("logout")
	errHandled = errors.New("handled")
)

// execute runs one parsed command and writes its responses. It returns false when the
// session must end.
func (s *session) execute(c *command, spec commandSpec, err error) bool {
	start := time.Now()
	if err == nil && spec.states&s.state == 0 {
		err = s.wrongState(c, spec)
	}
	if err == nil {
		err = parseArgs(s.p, spec, c)
	}
	var resp *response
	if err != nil {
		if !errors.As(err, &resp) {
			s.logger.Debug("read command", "err", err)
			return false
		}
		if err := s.p.skip(); err != nil {
			return false
		}
		s.writeStatus(c, resp)
		s.server.Metrics.command(c.name, resp.status)
		return true
	}
	err = spec.run(s, c)
	var ce *connError
	switch {
	case errors.Is(err, errLogout):
		return false
	case errors.Is(err, errHandled):
		s.server.Metrics.command(c.name, "OK")
		return s.cw.Err == nil
	case errors.As(err, &ce):
		s.logger.Debug("connection failed", "cmd", c.name, "err", ce.err)
		return false
	case err == nil:
		resp = &response{status: "OK", text: c.name + " completed"}
	case errors.As(err, &resp):
	default:
		s.logger.Error("command failed", "cmd", c.name, "err", err)
		resp = failure(c.name, err)
	}
	if resp.status != "BAD" {
		// Tell the client what other sessions changed before the command ends (RFC 9051
		// §7), but never an EXPUNGE in answer to FETCH, STORE or SEARCH (§7.5.1).
		if err := s.sync(!spec.holdsExpunges || c.uid); err != nil {
			s.logger.Error("mailbox update", "err", err)
		}
	}
	s.writeStatus(c, resp)
	s.server.Metrics.command(c.name, resp.status)
	s.logger.Debug("command", "cmd", c.name, "status", resp.status, "took", time.Since(start))
	return s.cw.Err == nil
}

// failure is the tagged answer to a command whose handler failed with err, an error that is
// no response: a store that does not answer (store.IsTemporary: a lost database, a cut
// connection, a body store that fails) is a temporary failure, NO [UNAVAILABLE] (RFC 5530
// §3), which a client retries later; the session keeps nothing of it, and its next command
// asks the store again. A definite answer no handler expected (a mailbox deleted meanwhile)
// gets its own code.
func failure(name string, err error) *response {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return no("NONEXISTENT", name+" failed: no longer exists")
	case errors.Is(err, store.ErrExists):
		return no("ALREADYEXISTS", name+" failed: already exists")
	case store.IsTemporary(err):
		return no("UNAVAILABLE", name+" failed: the mail store is not available now, try again later")
	}
	return no("SERVERBUG", name+" failed: internal error")
}

// wrongState is the answer to a command not valid in the session's state.
func (s *session) wrongState(c *command, spec commandSpec) error {
	switch {
	case s.state == stateNotAuthenticated:
		return badf("%s: log in first", c.name)
	case spec.states == stateNotAuthenticated:
		return badf("%s: already authenticated", c.name)
	default:
		return badf("%s: no mailbox selected", c.name)
	}
}

// writeStatus writes a command's tagged status response, or an untagged one when the tag
// could not be read.
func (s *session) writeStatus(c *command, r *response) {
	tag := c.tag
	if tag == "" {
		tag = "*"
	}
	s.bw.WriteString(tag)
	s.bw.WriteByte(' ')
	s.bw.WriteString(r.status)
	if r.code != "" {
		s.bw.WriteString(" [")
		s.bw.WriteString(r.code)
		s.bw.WriteByte(']')
	}
	s.bw.WriteByte(' ')
	s.bw.WriteString(strings.ToValidUTF8(r.text, "?"))
	s.bw.WriteString("\r\n")
}

// untagged writes "* " and the text of a response line.
func (s *session) untagged(format string, args ...any) {
	s.bw.WriteString("* ")
	fmt.Fprintf(s.bw, format, args...)
	s.bw.WriteString("\r\n")
}

// utf8 reports whether UTF-8 may go in quoted strings and mailbox names: in IMAP4rev2 or
// after ENABLE UTF8=ACCEPT (RFC 6855 §3).
func (s *session) utf8() bool { return s.rev2 || s.utf8Accept }

// startTLS wraps the connection in TLS and performs the handshake. Whatever the client sent
// after STARTTLS in clear is discarded (RFC 9051 §6.2.1: no command injection).
func (s *session) startTLS() error {
	tc := tls.Server(s.conn, s.server.TLSConfig)
	_ = s.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if err := tc.HandshakeContext(s.ctx); err != nil {
		return err
	}
	_ = s.conn.SetDeadline(time.Time{})
	s.conn = tc
	s.nc.SetNetConn(tc)
	s.cw.Conn = tc
	s.br.Reset(tc)
	s.tls = true
	return nil
}

// readLine reads one line outside the command grammar (AUTHENTICATE responses, IDLE's DONE),
// at most max octets; a longer one is read to its end and refused.
func (s *session) readLine(max int) (string, error) {
	var b []byte
	tooLong := false
	for {
		chunk, err := s.br.ReadSlice('\n')
		if len(b)+len(chunk) > max {
			tooLong, b = true, b[:0]
		}
		if !tooLong {
			b = append(b, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", &connError{err}
		}
		if tooLong {
			return "", badf("line too long")
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
}

// withLargeWriteBuffer runs fn with s.bw buffering through a large write buffer borrowed from
// the server, which it flushes into the session's own buffer afterwards. Only the session's
// goroutine writes while a command runs (Shutdown's BYE waits for an idle session), so the
// swap is safe.
func (s *session) withLargeWriteBuffer(fn func() error) error {
	large, _ := s.server.largeWriters.Get().(*bufio.Writer)
	if large == nil {
		large = bufio.NewWriterSize(nil, largeWriteBufferSize)
	}
	own := s.bw
	large.Reset(own)
	s.bw = large
	err := fn()
	s.bw = own
	if ferr := large.Flush(); err == nil {
		err = ferr
	}
	large.Reset(nil)
	s.server.largeWriters.Put(large)
	return err
}
