package smtpserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-smtp"

	"posthorn/internal/address"
	"posthorn/internal/delivery"
	"posthorn/internal/filter"
	"posthorn/internal/maillog"
	"posthorn/internal/message"
	"posthorn/internal/netserver"
	"posthorn/internal/store"
)

// session is one SMTP connection after EHLO/HELO.
type session struct {
	server *Server
	// ctx is cancelled when the session ends (QUIT, disconnect, timeout) and when a shutdown
	// stops waiting for it: the DNS checks, the filter and the store give up then.
	ctx    context.Context
	cancel context.CancelFunc
	conn   *smtp.Conn
	// nc is the connection in the connection layer: Working from MAIL FROM until go-smtp
	// resets the session, which it does after writing the final reply to DATA or BDAT, so
	// that a shutdown does not close the connection before that reply; Waiting between
	// transactions, when a shutdown says 421 and closes it.
	nc     *netserver.Conn
	id     string
	remote string
	logger *slog.Logger

	from       string
	size       int64 // declared with MAIL FROM SIZE= (RFC 1870), 0 when not
	rcpts      []string
	accounts   []store.Account // deduplicated: one copy per account
	accountIDs map[int64]bool
	special    []address.Address // claimed by Server.SpecialRecipients (special.go), also in rcpts

	filterConn *filter.Connection  // the inbound filter's state of this connection (filter.go)
	filterTx   *filter.Transaction // the inbound filter's checks of this transaction
	junkNames  map[int64]string    // an account's \Junk mailbox when it is not named Junk
}

// Replies, RFC 5321 §4.2 with RFC 3463 enhanced codes.
var (
	errBadAddress  = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 3}, Message: "Bad recipient address syntax"}
	errBadSender   = &smtp.SMTPError{Code: 501, EnhancedCode: smtp.EnhancedCode{5, 1, 7}, Message: "Bad sender address syntax"}
	errRelayDenied = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "Relay access denied"}
	errUnknownUser = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	errTempLookup  = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary lookup failure, try again later"}
	errTempStore   = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Temporary storage failure, try again later"}
	errLoop        = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 4, 6}, Message: "Too many Received headers: mail loop detected"}
	// RFC 5321 §2.3.8: CR and LF only together, as CRLF (see copyMessage).
	errBareCR       = &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "Message contains a bare CR (a CR not followed by LF); lines must end with CRLF"}
	errTooLarge     = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too big for system"}
	errShuttingDown = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "Shutting down, try again later"}
	errOverQuota    = &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "Mailbox full, try again later"}
)

// Mail handles MAIL FROM (RFC 5321 §4.1.1.2). The null reverse-path <> is allowed (bounces).
func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.reset()
	if from != "" {
		a, err := address.Parse(from)
		if err != nil {
			return errBadSender
		}
		from = a.String()
	}
	s.from = from
	if opts != nil {
		s.size = opts.Size
	}
	if !s.nc.Working() {
		return errShuttingDown
	}
	s.filterMail()
	return nil
}

// Rcpt handles RCPT TO (RFC 5321 §4.1.1.3): each recipient is decided now.
func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
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
	if handled, err := s.claimSpecial(a); handled {
		return err
	}
	if err := s.filterRcptAttempt(a.String()); err != nil {
		return err
	}
	// RFC 5321 §4.5.1: mail for "postmaster" must be accepted, case-insensitively; Parse
	// lower-cases, so the account or alias "postmaster@domain" is found like any other.
	res, err := s.resolve(a)
	if errors.Is(err, store.ErrUnknownDomain) {
		s.reject(a.String(), "relay-denied", errRelayDenied)
		return errRelayDenied
	} else if err != nil {
		return err
	}
	if over, err := s.overQuota(res.Accounts, s.size); err != nil {
		return s.lookupFailed(a.String(), "read quota", err)
	} else if over != "" {
		s.reject(a.String(), "over-quota", errOverQuota)
		return errOverQuota
	}
	if err := s.filterRcpt(a.String()); err != nil {
		return err
	}
	s.addRecipient(a, res.Accounts)
	s.logger.Debug("recipient accepted", "rcpt", a.String(), "via", res.Via, "accounts", len(res.Accounts))
	return nil
}

// resolve decides where mail for a goes (store.Resolve). An unknown local user is refused here
// (550 5.1.1) and so is a failed lookup (451 4.3.0); store.ErrUnknownDomain is returned as it
// is, for the caller to refuse (MX) or queue (submission).
func (s *session) resolve(a address.Address) (store.Resolution, error) {
	res, err := store.Resolve(s.ctx, s.server.Store, a)
	switch {
	case err == nil, errors.Is(err, store.ErrUnknownDomain):
		return res, err
	case errors.Is(err, store.ErrNoSuchUser):
		s.reject(a.String(), "unknown-user", errUnknownUser)
		return res, errUnknownUser
	}
	return res, s.lookupFailed(a.String(), "resolve recipient", err)
}

// lookupFailed answers a command whose store lookup (what, for rcpt) failed with err: anything
// but a definite answer (store.IsTemporary: the database is gone, a connection was cut) is a
// temporary failure, 451 4.3.0, never a refusal, so the client tries again later; the session
// keeps nothing of it and asks the store again at the next command. Every store failure of the
// MX and submission sessions ends here or in errTempStore (the commit: 250 only when it
// returned nil), errAuthTemp (AUTH) or the greylisting that lets the recipient through.
func (s *session) lookupFailed(rcpt, what string, err error) error {
	s.logger.Error(what, "rcpt", rcpt, "err", err)
	s.reject(rcpt, "lookup-failed", errTempLookup)
	return errTempLookup
}

// addRecipient adds an accepted recipient and its accounts, each account once.
func (s *session) addRecipient(a address.Address, accounts []store.Account) {
	s.rcpts = append(s.rcpts, a.String())
	for _, acc := range accounts {
		if !s.accountIDs[acc.ID] {
			s.accountIDs[acc.ID] = true
			s.accounts = append(s.accounts, acc)
		}
	}
}

// Reset handles RSET and the end of every transaction.
func (s *session) Reset() {
	s.reset()
	s.waiting()
}

// waiting tells the connection layer that the transaction has ended; during a shutdown that
// says 421 (the session's Goodbye), and the session closes the connection, which ends it.
func (s *session) waiting() {
	if !s.nc.Waiting() {
		_ = s.nc.NetConn().Close()
	}
}

func (s *session) reset() {
	s.from = ""
	s.size = 0
	s.rcpts = nil
	s.accounts = nil
	s.accountIDs = map[int64]bool{}
	s.special = nil
	s.filterClose()
}

// Logout ends the session.
func (s *session) Logout() error {
	defer s.cancel()
	s.filterClose()
	// After STARTTLS go-smtp ends this session and starts another under TLS, which sets its
	// own farewell; until then a shutdown closes the connection without one.
	s.nc.SetGoodbye(nil)
	s.logger.Debug("session ended")
	return nil
}

// reject writes the mail log record of a refused recipient or message.
func (s *session) reject(rcpt, result string, e *smtp.SMTPError) {
	s.server.Metrics.rejected(result)
	event := "rejected"
	if e.Code/100 == 4 {
		event = "tempfail"
	}
	s.server.MailLog.Record(maillog.Event{
		Event: event, From: s.from, Rcpt: rcpt, Result: result, Code: replyCode(e),
		Remote: s.remote, Conn: s.id,
	})
}

// Data handles DATA and BDAT (RFC 5321 §4.1.1.4, RFC 3030): go-smtp hands us the message
// already dot-unstuffed, or the concatenated chunks.
func (s *session) Data(r io.Reader) error {
	start := time.Now()
	rcpt := strings.Join(s.rcpts, ",")
	draft, err := s.server.Committer.NewDraft(s.ctx)
	if err != nil {
		s.logger.Error("create message body", "err", err)
		s.reject(rcpt, "storage-failed", errTempStore)
		return errTempStore
	}
	// Whatever refuses the message below, its body goes here; once committed this does nothing.
	defer draft.Abort()
	tls := false
	if _, ok := s.conn.TLSConnectionState(); ok {
		tls = true
	}
	received := receivedHeader(s.server.Hostname, s.conn.Hostname(), s.remote, draft.ID(), s.rcpts, tls, time.Now())
	// With the filter on, the message waits in a spool for its verdict (filter.go).
	var dst io.Writer = draft
	spool := s.newSpool()
	if spool != nil {
		dst = spool
	}
	defer spool.Close()
	stats, err := copyMessage(dst, received, r, s.server.MaxMessageBytes)
	if err != nil {
		return s.transferFailed(rcpt, err)
	}
	size := draft.Size() + spool.Size()
	if err := s.checkQuota(rcpt, size); err != nil {
		return err
	}
	// Only mailboxes' copies are judged by the filter (special.go); special recipients get
	// the spooled message.
	ordinary := len(s.rcpts) > len(s.special)
	verdict := &filter.Verdict{}
	var parsed *message.Parsed
	switch {
	case ordinary && s.filterTx != nil:
		if verdict, parsed, err = s.filterData(draft, spool, len(received)); err != nil {
			return err
		}
	case ordinary && spool != nil:
		if err := copySpool(draft, spool); err != nil {
			s.logger.Error("write message", "err", err)
			s.reject(rcpt, "storage-failed", errTempStore)
			return errTempStore
		}
	}
	if err := s.deliverSpecial(spool, draft.ID()); err != nil {
		return err
	}
	if !ordinary {
		s.server.Metrics.received(size, stats.receivedHeaders, time.Since(start))
		return nil // the draft is aborted: no mailbox gets the message
	}
	if len(s.special) > 0 {
		rcpt = strings.Join(s.ordinaryRcpts(), ",")
	}
	size = draft.Size()
	targets := make([]store.Target, len(s.accounts))
	for i, acc := range s.accounts {
		targets[i] = store.Target{AccountID: acc.ID, Mailbox: s.mailbox(verdict, acc.ID)}
	}
	committed, err := s.commit(draft, rcpt, delivery.Message{Targets: targets, Parsed: parsed})
	if err != nil {
		return err
	}
	s.server.Metrics.received(size, stats.receivedHeaders, time.Since(start))
	s.server.MailLog.Record(maillog.Event{
		Event: "received", ID: committed.BodyID, MsgID: committed.MessageID, From: s.from, Rcpt: rcpt,
		Result: deliveredResult(verdict, s.accounts), Code: "250 2.0.0", Remote: s.remote, Size: size, Conn: s.id,
		Reasons: verdict.ReasonNames(), Mailboxes: loggedMailboxes(s.accounts, targets),
	})
	return nil
}

// loggedMailboxes are the local copies of a delivery for the mail log: targets[i] is the copy
// of accounts[i].
func loggedMailboxes(accounts []store.Account, targets []store.Target) []maillog.Mailbox {
	if len(targets) == 0 {
		return nil
	}
	out := make([]maillog.Mailbox, len(targets))
	for i, t := range targets {
		out[i] = maillog.Mailbox{Account: accounts[i].Address, Name: t.Mailbox}
	}
	return out
}

// transferFailed answers a DATA or BDAT whose copy into storage failed with err.
func (s *session) transferFailed(rcpt string, err error) error {
	var reply *smtp.SMTPError
	result := "read-failed"
	switch {
	case errors.Is(err, errLoop):
		reply, result = errLoop, "loop"
	case errors.Is(err, errBareCR):
		reply, result = errBareCR, "bare-cr"
	case errors.Is(err, smtp.ErrDataTooLarge), errors.Is(err, errTooLarge):
		reply, result = errTooLarge, "too-large"
	case errors.Is(err, smtp.ErrDataReset):
		return err // RSET or QUIT during BDAT: nothing to reply
	default:
		s.logger.Info("message transfer failed", "err", err)
		return err
	}
	s.reject(rcpt, result, reply)
	return reply
}

// checkQuota refuses a message of size octets that one of the session's accounts has no room
// for. One reply for every recipient (SMTP has no per-recipient reply to DATA): the sender
// retries them all later.
func (s *session) checkQuota(rcpt string, size int64) error {
	over, err := s.overQuota(s.accounts, size)
	switch {
	case err != nil:
		s.logger.Error("read quota", "err", err)
		s.reject(rcpt, "lookup-failed", errTempLookup)
		return errTempLookup
	case over != "":
		s.logger.Info("message over quota", "account", over, "size", size)
		s.reject(rcpt, "over-quota", errOverQuota)
		return errOverQuota
	}
	return nil
}

// commit commits the draft to m's targets and the outbound queue in one transaction (delivery
// analyses it and makes it durable first); on failure the body is gone and the error is the
// reply.
func (s *session) commit(draft *delivery.Draft, rcpt string, m delivery.Message) (delivery.Committed, error) {
	committed, err := draft.Commit(s.ctx, m)
	if err != nil {
		s.logger.Error("commit message", "err", err)
		s.reject(rcpt, "storage-failed", errTempStore)
		return delivery.Committed{}, errTempStore
	}
	return committed, nil
}

// overQuota returns the address of the first account that uses all its storage quota or would
// go over it with add more octets, or "" when none does.
func (s *session) overQuota(accounts []store.Account, add int64) (string, error) {
	for _, acc := range accounts {
		q, err := store.GetQuota(s.ctx, s.server.Store, acc, s.server.DefaultQuota)
		if err != nil {
			return "", err
		}
		if q.Exceeded(add) {
			return acc.Address, nil
		}
	}
	return "", nil
}

// replyCode renders "550 5.1.1" for the mail log.
func replyCode(e *smtp.SMTPError) string {
	c := e.EnhancedCode
	return fmt.Sprintf("%d %d.%d.%d", e.Code, c[0], c[1], c[2])
}
