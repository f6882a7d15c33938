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
// Server.SpecialRecipients, when set, takes the mail of addresses that are no mailbox (the
// campaign feedback addresses: bounce+TOKEN@ and unsubscribe+TOKEN@ of a local domain, and the
// abuse address): claimed at RCPT before the resolution above, accepted from any sender, and
// handed over at the end of data instead of going to a mailbox, with 250 only once it has
// recorded what it needs; such a message is not judged by the inbound filter's body checks
// unless the transaction has ordinary recipients too (special.go).
//
// A store that does not answer (the database is lost, a connection was cut: store.IsTemporary,
// anything but a definite answer such as store.ErrNotFound) is never taken for an answer: a
// RCPT TO whose recipient, alias, catch-all, bare postmaster, special recipient's domain or
// quota cannot be read gets 451 4.3.0, never 550; so does a submission MAIL FROM whose
// ownership cannot be checked, and a sending limit that cannot be read; AUTH that cannot read
// the credentials gets 454 4.7.0 and is no failed login for the throttling; the end of DATA or
// BDAT gets 451 4.3.0 whenever the commit did not return nil, and the draft is aborted, so a
// message is acknowledged only once it is stored. Greylisting alone lets a recipient through
// when its store fails (package filter: a check that cannot run never refuses). The session
// keeps nothing of a failure (session.lookupFailed): the next command asks the store again,
// and works once it answers.
//
// Each session has a context (session.ctx) that every DNS check, filter step, store call and
// the commit run under: it ends with the session (QUIT, disconnect, timeout), and Shutdown
// cancels it for the sessions still open when it stops waiting.
//
// Connections: go-smtp's Serve takes its connections from the connection layer's hand-off
// listener (netserver.Server.Listener), which holds the limits (over MaxConnections or
// MaxPerAddress a connection gets 421 4.7.0 instead of the greeting, RFC 5321 §3.1), runs the
// connection filter (filterConnect, which may answer and close before the greeting), counts the
// connections (posthorn_smtp_connections_* and posthorn_submission_connections_*), and, on
// submission, holds every read deadline to the login deadline until AUTH succeeds. A session
// is working from MAIL FROM until go-smtp resets it after the final reply of the transaction,
// and waiting otherwise.
//
// Shutdown is the connection layer's: it stops accepting, says "421 4.3.2 HOST shutting down"
// to every waiting connection (at once, or when its transaction in flight has ended) and closes
// it, waits for transactions in flight until its context ends, then cancels the sessions'
// contexts and closes what remains.
package smtpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
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
	// SpoolDir holds messages the filter judges that do not stay in memory (spool.go: over 1
	// MiB, or when the server's spools hold 64 MiB already); "": the system's temporary
	// directory.
	SpoolDir string
	// Submission, when set, makes this a submission server (RFC 6409, submission.go): AUTH
	// required, sender ownership, sending limits, DKIM signing, remote recipients queued.
	Submission *Submission
	// SpecialRecipients, on the MX, takes the mail of addresses that are no mailbox (the
	// campaign feedback addresses, special.go); nil: none.
	SpecialRecipients SpecialRecipients

	initOnce    sync.Once
	spoolMemory spoolMemory // shared by the sessions' spools
	smtp        *smtp.Server
	// conns is the connection layer under go-smtp: it accepts, holds the limits, the login
	// deadline of submission and the connection metrics, and shuts the connections down.
	conns    netserver.Server
	nextConn atomic.Uint64
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
		s.base, s.cancelBase = context.WithCancel(context.Background())
		s.conns = netserver.Server{
			MaxConnections: s.MaxConnections,
			MaxPerAddress:  s.MaxPerAddress,
			// RFC 5321 §3.1: a server that cannot serve a connection answers 421 instead of
			// the greeting.
			Refused:           "421 4.7.0 " + s.Hostname + " too many connections, try again later\r\n",
			RefusedPerAddress: "421 4.7.0 " + s.Hostname + " too many connections from your address, try again later\r\n",
			ShuttingDown:      shuttingDownLine(s.Hostname),
			LoginTimeout:      s.loginTimeout(),
			Admit:             s.filterConnect,
			Metrics:           s.Metrics.connections(),
		}
	})
}

// shuttingDownLine is the farewell of a connection that Shutdown closes between transactions
// (RFC 5321 §3.8: 421 before closing the channel).
func shuttingDownLine(hostname string) string {
	return "421 4.3.2 " + hostname + " shutting down\r\n"
}

// Serve accepts connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	return serveResult(s.smtp.Serve(s.conns.Listener(l, false)))
}

// serveResult is what Serve returns for go-smtp's result: nil once the server is shut down.
func serveResult(err error) error {
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, says 421 to idle sessions, waits for transactions in flight until
// ctx ends, then cancels the contexts of the sessions left (what they wait for gives up, and
// they answer 451) and closes their connections (netserver.Server.Shutdown).
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	defer s.cancelBase()
	stop := context.AfterFunc(ctx, s.cancelBase)
	defer stop()
	// The session contexts end with ctx, so that the sessions the connection layer cuts off
	// then stop what they wait for and end: it waits for them. Its ctx error is not ours: the
	// sessions were ended as they should be.
	_ = s.conns.Shutdown(ctx)
	// go-smtp has nothing left to close; Close makes its Serve return.
	if err := s.smtp.Close(); err != nil && !errors.Is(err, smtp.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close smtp server: %w", err)
	}
	return nil
}

// loginTimeout is the connection layer's: the submission server's LoginTimeout; the MX has no
// login.
func (s *Server) loginTimeout() time.Duration {
	if s.Submission == nil {
		return -1
	}
	return s.Submission.LoginTimeout // 0: netserver.DefaultLoginTimeout
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
		nc:     netserver.ConnOf(c.Conn()),
		id:     "smtp-" + id,
		remote: remote,
		logger: s.Logger.With("conn", "smtp-"+id, "proto", "smtp", "remote", remote),
	}
	if err := s.filterHello(sess); err != nil {
		cancel()
		return nil, err
	}
	select {
	case <-sess.nc.ShuttingDown():
		cancel()
		return nil, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down"}
	default:
	}
	// The farewell goes over TLS once the session is under it (go-smtp starts a new session
	// after STARTTLS).
	nc, line := c.Conn(), shuttingDownLine(s.Hostname)
	sess.nc.SetGoodbye(func() { _, _ = io.WriteString(nc, line) })
	sess.logger.Debug("session started", "ehlo", c.Hostname())
	if s.Submission != nil {
		return s.newSubmissionSession(sess), nil
	}
	return sess, nil
}

// slogWriter routes go-smtp's internal error log into the server log.
type slogWriter struct{ l *slog.Logger }

func (w slogWriter) Write(p []byte) (int, error) {
	w.l.Warn("smtp library", "msg", string(p))
	return len(p), nil
}
