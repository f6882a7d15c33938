// Package smtpserver is posthorn's inbound MX (RFC 5321) on go-smtp, up to the durable commit,
// and, with Server.Submission set, its message submission server (RFC 6409; see submission.go:
// AUTH first, the sender must be the account's, DKIM signing, local delivery and queueing).
//
// A session decides each RCPT TO at once (store.Resolve: account, alias, sub-address, catch-all;
// an unknown local user gets 550 5.1.1, a domain that is not ours 554 5.7.1, so the MX is never an
// open relay; RFC 5321 §4.5.1's bare "RCPT TO:<Postmaster>" is taken as the postmaster of the
// primary domain: the host name when it is a local domain, else its nearest local parent domain
// (mx.example.org: example.org), else the local domain added first, in plain-text and TLS
// sessions alike; postmaster.go),
// streams DATA or BDAT straight into a new message draft (delivery.Draft: the server never
// sees the body store) with a Received header (RFC 5321 §4.4) in front, normalises bare LF to
// CRLF on the way (RFC 5321 §2.3.8; the end of data is only ever CRLF.CRLF, so SMTP smuggling
// sequences stay inside the message as text), refuses a message with a bare CR (a CR not
// followed by LF) with 554 5.6.0 at the end of DATA or BDAT, on the MX and on submission alike,
// since no SMTP client that keeps to §2.3.8 (the outbound queue's among them) could send it on
// and it could not be repaired unambiguously, counts Received headers (more than MaxReceived is
// a loop, 554 5.4.6) and commits the draft, which delivery parses for IMAP and makes durable. A
// recipient whose account uses all its storage quota (or would with the size MAIL FROM
// declared, RFC 1870) gets 452 4.2.2 at RCPT, and a message that would take one of its accounts
// over gets 452 4.2.2 at the end of DATA. 250 is written only when the commit returns, i.e. when
// the body is fsync'd and the rows are committed. A message refused at any point leaves
// nothing: Data defers the draft's Abort, which does nothing once the draft is committed.
//
// Each session has a context (session.ctx) that every DNS check, filter step, store call and
// the commit run under: it ends with the session (QUIT, disconnect, timeout), and Shutdown
// cancels it for the sessions still open when it stops waiting.
//
// Shutdown stops accepting, closes idle connections with 421, lets transactions in flight finish
// until its context ends, then cancels the sessions' contexts and closes what remains.
package smtpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"posthorn/internal/delivery"
	"posthorn/internal/filter"
	"posthorn/internal/maillog"
	"posthorn/internal/netserver"
	"posthorn/internal/store"
)

// MaxReceived is the most Received headers a message may carry before it is refused as a loop
// (RFC 5321 §6.3 suggests a large threshold, "usually 100"; Postfix uses 50).
const MaxReceived = 50

// Server is an inbound SMTP server. Set the fields, then call Serve.
type Server struct {
	Hostname        string              // in the greeting and Received headers
	Store           store.Store         // accounts, aliases, mailboxes
	Committer       *delivery.Committer // owns every new message's body: create, commit, abort
	Logger          *slog.Logger        // server log
	MailLog         *maillog.Logger
	Metrics         *Metrics
	TLSConfig       *tls.Config // nil: no STARTTLS
	MaxMessageBytes int64       // over it: 552 5.3.4
	MaxRecipients   int         // over it: 452 4.5.3
	MaxConnections  int         // over it: 421 4.7.0 at connect
	// MaxPerAddress refuses a connection from a client address (an IPv4 address, an IPv6 /64)
	// that holds that many already, with 421 4.7.0; 0 means no limit.
	MaxPerAddress int
	// Timeout is how long a command line may take, counted from when the server waits for it
	// (go-smtp's ReadTimeout: one deadline per line, not renewed by each byte).
	Timeout time.Duration
	// DefaultQuota is the storage quota, in octets, of an account without its own
	// (store.Account.Quota); 0: none. Over its quota, an account's mail gets 452 4.2.2.
	DefaultQuota int64
	// Filter is the inbound verdict of the MX (filter.go); nil: no checks beyond the above.
	Filter *filter.Filter
	// SpoolDir holds messages over 64 KiB while the filter judges them; "": the system's
	// temporary directory.
	SpoolDir string
	// Submission, when set, makes this a submission server (RFC 6409, submission.go): AUTH
	// required, sender ownership, sending limits, DKIM signing, remote recipients queued.
	Submission *Submission

	initOnce sync.Once
	smtp     *smtp.Server
	nextConn atomic.Uint64
	limits   netserver.Limiter

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	// base is the parent of every session's context; Shutdown cancels it when it stops
	// waiting for the sessions.
	base       context.Context
	cancelBase context.CancelFunc
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
		srv.Domain = s.Hostname
		srv.MaxMessageBytes = s.MaxMessageBytes
		srv.MaxRecipients = s.MaxRecipients
		srv.ReadTimeout = s.Timeout
		srv.WriteTimeout = s.Timeout
		srv.TLSConfig = s.TLSConfig
		srv.EnableSMTPUTF8 = true // RFC 6531
		if s.Submission != nil {
			// The submission session decides where AUTH is allowed (authAllowed).
			srv.AllowInsecureAuth = true
			srv.EnableDSN = true        // RFC 3461, carried into the queue
			srv.EnableREQUIRETLS = true // RFC 8689, advertised over TLS only
		}
		srv.ErrorLog = log.New(slogWriter{s.Logger}, "", 0)
		s.smtp = srv
		s.sessions = map[*session]struct{}{}
		s.base, s.cancelBase = context.WithCancel(context.Background())
		s.limits = netserver.Limiter{Max: s.MaxConnections, MaxPerAddress: s.MaxPerAddress}
	})
}

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	err := s.smtp.Serve(s.newLimitListener(l))
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, says 421 to idle sessions, waits for transactions in flight until
// ctx ends, then cancels the contexts of the sessions left (what they wait for gives up, and
// they answer 451) and closes their connections.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	s.closing = true
	s.mu.Unlock()
	defer s.cancelBase()
	done := make(chan error, 1)
	go func() { done <- s.smtp.Shutdown(ctx) }()
	ticker := time.NewTicker(50 * time.Millisecond)
	defer ticker.Stop()
	for {
		s.closeIdle()
		select {
		case err := <-done:
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				s.cancelBase()
				cerr := s.smtp.Close()
				if errors.Is(cerr, smtp.ErrServerClosed) {
					cerr = nil
				}
				return cerr
			}
			if errors.Is(err, smtp.ErrServerClosed) {
				return nil
			}
			return err
		case <-ticker.C:
		}
	}
}

func (s *Server) closeIdle() {
	var idle []net.Conn
	s.mu.Lock()
	for sess := range s.sessions {
		if !sess.busy.Load() && !sess.closed {
			sess.closed = true
			idle = append(idle, sess.conn.Conn())
		}
	}
	s.mu.Unlock()
	// Closing the network connection ends go-smtp's read loop, which then logs the session out;
	// go-smtp's own Conn.Close would call Logout, and so endSession, from here.
	for _, c := range idle {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(c, "421 4.3.2 "+s.Hostname+" shutting down\r\n")
		_ = c.Close()
	}
}

func (s *Server) loginTimeout() time.Duration {
	if s.Submission.LoginTimeout > 0 {
		return s.Submission.LoginTimeout
	}
	return netserver.DefaultLoginTimeout
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	id := strconv.FormatUint(s.nextConn.Add(1), 36)
	remote := ""
	if addr, ok := c.Conn().RemoteAddr().(*net.TCPAddr); ok {
		remote = addr.IP.String()
	}
	ctx, cancel := context.WithCancel(s.base)
	sess := &session{
		server: s,
		ctx:    ctx,
		cancel: cancel,
		conn:   c,
		nc:     countedConnOf(c.Conn()),
		id:     "smtp-" + id,
		remote: remote,
		logger: s.Logger.With("conn", "smtp-"+id, "proto", "smtp", "remote", remote),
	}
	if err := s.filterHello(sess); err != nil {
		cancel()
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		cancel()
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down"}
	}
	s.sessions[sess] = struct{}{}
	sess.logger.Debug("session started", "ehlo", c.Hostname())
	if s.Submission != nil {
		return s.newSubmissionSession(sess), nil
	}
	return sess, nil
}

func (s *Server) endSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// limitListener holds every connection to the server's limits (netserver.Limiter: in total
// and per client address, over which a connection gets 421 4.7.0, RFC 5321 §3.1), then to the
// connection filter, and counts the connections it returns.
type limitListener struct {
	limited *netserver.Listener
	server  *Server
}

// newLimitListener holds the connections of l to the server's limits.
func (s *Server) newLimitListener(l net.Listener) *limitListener {
	return &limitListener{server: s, limited: &netserver.Listener{
		Listener: l,
		Limiter:  &s.limits,
		Refuse: func(r netserver.Refusal) string {
			if r == netserver.TooManyFromAddress {
				return "421 4.7.0 " + s.Hostname + " too many connections from your address, try again later\r\n"
			}
			return "421 4.7.0 " + s.Hostname + " too many connections, try again later\r\n"
		},
		Refused: func(netserver.Refusal) { s.Metrics.connectionRefused() },
	}}
}

// Close and Addr are the wrapped listener's.
func (l *limitListener) Close() error   { return l.limited.Close() }
func (l *limitListener) Addr() net.Addr { return l.limited.Addr() }

func (l *limitListener) Accept() (net.Conn, error) {
	s := l.server
	for {
		c, err := l.limited.Accept()
		if err != nil {
			return nil, err
		}
		if reply := s.filterConnect(c); reply != "" {
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = io.WriteString(c, reply)
			_ = c.Close()
			continue
		}
		s.Metrics.connectionOpened()
		cc := &countedConn{Conn: c, server: s}
		if s.Submission != nil {
			cc.loginBy.Store(time.Now().Add(s.loginTimeout()).UnixNano())
		}
		return cc, nil
	}
}

// countedConn is an accepted connection: it counts its end, and, on a submission server, holds
// every read deadline to the login deadline until the client has authenticated, so that
// neither slow lines nor a stream of NOOPs keep an unauthenticated connection open.
type countedConn struct {
	net.Conn
	server  *Server
	once    sync.Once
	loginBy atomic.Int64 // Unix nanoseconds; 0: no login deadline
}

// SetReadDeadline sets t, or the login deadline if that comes first.
func (c *countedConn) SetReadDeadline(t time.Time) error {
	if by := c.loginBy.Load(); by != 0 && (t.IsZero() || t.UnixNano() > by) {
		t = time.Unix(0, by)
	}
	return c.Conn.SetReadDeadline(t)
}

// loggedIn lifts the login deadline.
func (c *countedConn) loggedIn() { c.loginBy.Store(0) }

// countedConnOf is the countedConn under a session's connection (under TLS after STARTTLS or
// on the implicit-TLS listener), nil if there is none.
func countedConnOf(c net.Conn) *countedConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	cc, _ := c.(*countedConn)
	return cc
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.server.Metrics.connectionClosed()
	})
	return c.Conn.Close()
}

// slogWriter routes go-smtp's internal error log into the server log.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("smtp library", "msg", string(p))
	return len(p), nil
}
