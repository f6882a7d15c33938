package smtpserver

// Message submission (RFC 6409) on the listeners submission (port 587, STARTTLS) and
// submissions (port 465, implicit TLS, RFC 8314).
//
// A Server with Submission set serves submission sessions instead of MX sessions:
//
//   - AUTH (RFC 4954) offers PLAIN, LOGIN and SCRAM-SHA-256 through the shared
//     credentials.Authenticator (same throttling as IMAP and POP3). Without TLS, AUTH is
//     neither advertised nor accepted (530 5.7.0), except from a loopback address when
//     AllowInsecureAuth is set (a trial server, local tools).
//   - MAIL before AUTH is refused with 530 5.7.0, so this listener is never an open relay.
//     The null reverse-path is refused (a user does not send bounces), and so is a sender the
//     account does not own (550 5.7.1; see owns): its address, an alias that leads to it, an
//     address or domain granted with "posthorn user send-as".
//   - Sending limits count recipients, not messages: a message to ten people counts ten, which
//     is what a compromised account sending spam is bounded by. A recipient that would take the
//     account past its hourly or daily limit gets 451 4.7.1 at RCPT; the others of the same
//     message are kept. The count is written after the commit, in the background and batched
//     (sentlog.go): a crash before it is written forgets it, and sessions of one account
//     running at the same moment can each pass the check with the same count, so a limit can
//     be overshot by the messages in flight (a bound on abuse, not an exact quota). The counts
//     are the store's (store.SendCounter), so nodes sharing a PostgreSQL count one account's
//     messages together; only the counts not yet written are one node's own.
//   - RCPT for a local domain resolves like the MX (unknown user: 550 5.1.1) and is delivered
//     straight to the INBOX of each account (no copy in Sent: clients save their own); any other
//     domain is queued for the outbound queue (store.Outbound, with the DSN and REQUIRETLS
//     parameters given), in the same transaction as the local copies, before 250.
//   - DATA/BDAT (submission_data.go): the From header addresses must be owned like the envelope
//     sender; Message-ID and Date are added when missing (RFC 6409 §8.3, §8.2); the message is
//     DKIM-signed with the From domain's keys when it is a local domain; a Received header
//     names the authenticated protocol (ESMTPSA, RFC 3848) but not the client's IP address
//     (nor a HELO that is an address literal), which would reveal where a user is to every
//     recipient; the mail log keeps the address for the operator.
import (
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"posthorn/internal/address"
	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
)

// Submission configures a Server as a submission server.
type Submission struct {
	Auth *credentials.Authenticator
	// Store holds send-as grants, sending limits and counts, and DKIM keys.
	Store store.SubmissionStore
	// AllowInsecureAuth lets AUTH work without TLS on connections from a loopback address.
	AllowInsecureAuth bool
	// LoginTimeout is how long a connection may take from its start to a successful AUTH,
	// whatever it sends meanwhile. Default: 60 seconds (netserver.DefaultLoginTimeout).
	LoginTimeout time.Duration
	// Default sending limits of an account without its own, in recipients; 0: none.
	PerHour, PerDay int64
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Sent, when set, is told the recipients of every message accepted from an account (the
	// spam classifier's correspondents: replies from them are not from first-time senders).
	Sent func(accountID int64, recipients []string)

	recorderOnce sync.Once
	recorder     *sentRecorder
	// dkimKeys keeps the decoded signing keys between messages (read from Store each time).
	dkimKeys mailauth.DKIMKeyCache
}

// sent returns the recorder of sending counts, made at first use.
func (sub *Submission) sent(logger *slog.Logger) *sentRecorder {
	sub.recorderOnce.Do(func() { sub.recorder = newSentRecorder(sub.Store, logger) })
	return sub.recorder
}

// Flush waits until the sending counts of every message accepted so far are written; the
// server calls it at shutdown, after the last session.
func (sub *Submission) Flush() {
	if sub.recorder != nil {
		sub.recorder.flush()
	}
}

func (sub *Submission) now() time.Time {
	if sub.Now != nil {
		return sub.Now()
	}
	return time.Now()
}

// Replies of submission, RFC 4954 §6 and RFC 3463.
var (
	errAuthRequired    = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	errTLSRequired     = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Must issue a STARTTLS command first"}
	errAuthInvalid     = &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
	errAuthTemp        = &smtp.SMTPError{Code: 454, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Temporary authentication failure"}
	errAuthSyntax      = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 5, 2}, Message: "Cannot decode SASL response"}
	errAuthMechanism   = &smtp.SMTPError{Code: 504, EnhancedCode: smtp.EnhancedCode{5, 5, 4}, Message: "Unrecognized authentication type"}
	errNullSender      = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "The null sender is not allowed on submission"}
	errSenderNotOwned  = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Sender address not owned by the authenticated user"}
	errFromNotOwned    = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "From header address not owned by the authenticated user"}
	errNoFrom          = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message has no valid From header"}
	errSendLimit       = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Sending limit reached, try again later"}
	errHeaderTooLarge  = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message header too large"}
	errRemoteTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Remote delivery is not available, try again later"}
)

// submissionMechanisms are offered in this order (strongest first).
var submissionMechanisms = []string{auth.MechSCRAM, auth.MechPlain, auth.MechLogin}

// ServeTLS accepts implicit-TLS connections (RFC 8314 §3.3, port 465) on l until Shutdown.
func (s *Server) ServeTLS(l net.Listener) error {
	s.init()
	// TLS over the connection layer's connection, so go-smtp sees the *tls.Conn it looks for.
	return serveResult(s.smtp.Serve(tls.NewListener(s.conns.Listener(l, true), s.TLSConfig)))
}

// submissionSession is one submission connection; it reuses the MX session's bookkeeping
// (shutdown, busy flag, local recipients, quota) and replaces the protocol steps.
type submissionSession struct {
	*session
	sub      *Submission
	remoteIP netip.Addr
	account  store.Account
	authed   bool

	queued []store.Outbound // recipients in other domains
	mail   smtp.MailOptions
	room   *int64 // recipients the sending limits leave this transaction (-1: no limit); nil: not read yet
}

func (s *Server) newSubmissionSession(base *session) *submissionSession {
	base.id = "sub-" + strings.TrimPrefix(base.id, "smtp-")
	base.logger = s.Logger.With("conn", base.id, "proto", "submission", "remote", base.remote)
	ip, _ := netip.ParseAddr(base.remote)
	return &submissionSession{session: base, sub: s.Submission, remoteIP: ip.Unmap()}
}

// authAllowed: over TLS, or from loopback when the configuration allows it.
func (s *submissionSession) authAllowed() bool {
	if _, ok := s.conn.TLSConnectionState(); ok {
		return true
	}
	return s.sub.AllowInsecureAuth && s.remoteIP.IsLoopback()
}

// AuthMechanisms lists what EHLO advertises: nothing until AUTH is allowed (RFC 4954 §4).
func (s *submissionSession) AuthMechanisms() []string {
	if !s.authAllowed() {
		return nil
	}
	return submissionMechanisms
}

// Auth starts an AUTH exchange (RFC 4954 §4).
func (s *submissionSession) Auth(mech string) (sasl.Server, error) {
	if !s.authAllowed() {
		return nil, errTLSRequired
	}
	srv, err := s.sub.Auth.SASL(s.ctx, mech, "submission", s.remoteIP, func(acc store.Account) {
		s.account = acc
		s.authed = true
		s.nc.LoggedIn() // the login deadline is gone
		s.logger = s.logger.With("account", acc.Address)
		s.logger.Info("authenticated", "mech", strings.ToUpper(mech))
	})
	if err != nil {
		return nil, errAuthMechanism
	}
	return saslReplies{srv}, nil
}

// saslReplies maps the authenticator's errors to AUTH replies; the client learns only that the
// credentials were wrong, never whether the user exists.
type saslReplies struct{ sasl.Server }

func (r saslReplies) Next(response []byte) ([]byte, bool, error) {
	challenge, done, err := r.Server.Next(response)
	switch {
	case err == nil:
		return challenge, done, nil
	case errors.Is(err, auth.ErrInvalidCredentials), errors.Is(err, auth.ErrChannelBinding):
		return nil, false, errAuthInvalid
	case errors.Is(err, auth.ErrSASLSyntax), errors.Is(err, sasl.ErrUnexpectedClientResponse):
		return nil, false, errAuthSyntax
	}
	return nil, false, errAuthTemp // throttled, or the store failed
}

// Mail handles MAIL FROM: only after AUTH, only from an address the account owns.
func (s *submissionSession) Mail(from string, opts *smtp.MailOptions) error {
	s.reset()
	if !s.authed {
		return errAuthRequired
	}
	if from == "" {
		s.reject("", "null-sender", errNullSender)
		return errNullSender
	}
	a, err := address.Parse(from)
	if err != nil {
		return errBadSender
	}
	owned, err := s.owns(s.ctx, a)
	if err != nil {
		s.logger.Error("check sender", "from", a.String(), "err", err)
		return errTempLookup
	}
	if !owned {
		s.from = a.String()
		s.reject("", "sender-not-owned", errSenderNotOwned)
		s.from = ""
		return errSenderNotOwned
	}
	s.from = a.String()
	if opts != nil {
		s.size = opts.Size
		s.mail = *opts
	}
	if !s.nc.Working() {
		return errShuttingDown
	}
	return nil
}

// Rcpt handles RCPT TO: local recipients resolve as on the MX, others are queued.
func (s *submissionSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if !s.authed {
		return errAuthRequired
	}
	if pm, ok, err := s.server.postmasterAddress(s.ctx, to); ok {
		if err != nil {
			return s.lookupFailed(to, "look up the postmaster", err)
		}
		if pm == "" {
			s.reject(to, "unknown-user", errUnknownUser)
			return errUnknownUser
		}
		to = pm
	}
	a, err := address.Parse(to)
	if err != nil {
		s.reject(to, "bad-address", errBadAddress)
		return errBadAddress
	}
	if reply := s.checkLimits(s.ctx, len(s.rcpts)+1); reply != nil {
		reason := "send-limit"
		if reply != errSendLimit {
			reason = "lookup-failed"
		}
		s.reject(a.String(), reason, reply)
		return reply
	}
	res, err := s.resolve(a)
	if errors.Is(err, store.ErrUnknownDomain) {
		s.rcpts = append(s.rcpts, a.String())
		s.queued = append(s.queued, s.outbound(a, opts))
		return nil
	} else if err != nil {
		return err
	}
	s.addRecipient(a, res.Accounts)
	return nil
}

// outbound is the queue row of a remote recipient with the transaction's parameters.
func (s *submissionSession) outbound(rcpt address.Address, opts *smtp.RcptOptions) store.Outbound {
	o := store.Outbound{
		Sender:     s.from,
		Recipient:  rcpt.String(),
		Priority:   store.PriorityNormal,
		Ret:        string(s.mail.Return),
		EnvID:      s.mail.EnvelopeID,
		RequireTLS: s.mail.RequireTLS,
		SMTPUTF8:   s.mail.UTF8,
		EightBit:   s.mail.Body == smtp.Body8BitMIME,
	}
	if opts != nil {
		notify := make([]string, len(opts.Notify))
		for i, n := range opts.Notify {
			notify[i] = string(n)
		}
		o.Notify = strings.Join(notify, ",")
		if opts.OriginalRecipient != "" {
			o.ORcpt = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
		}
	}
	return o
}

// Reset handles RSET and the end of every transaction.
func (s *submissionSession) Reset() {
	s.reset()
	s.waiting()
}

func (s *submissionSession) reset() {
	s.session.reset()
	s.queued = nil
	s.mail = smtp.MailOptions{}
	s.room = nil
}
