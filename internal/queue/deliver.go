package queue

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"time"

	"github.com/mjl-/mox/dns"
	"github.com/mjl-/mox/sasl"
	"github.com/mjl-/mox/smtpclient"

	adns "github.com/mjl-/adns"

	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// session is one open SMTP connection to a destination.
type session struct {
	client *smtpclient.Client
	host   string // the MX host (or smarthost) name, for Remote-MTA
	// verified: the TLS connection was authenticated as a policy (MTA-STS enforce, DANE, an
	// authenticated smarthost) required, which REQUIRETLS needs.
	verified bool
}

func (c *session) close() {
	_ = c.client.Close()
}

// work serves one destination on one connection until its list is empty.
func (s *Scheduler) work(ctx context.Context, d *destination) {
	defer s.workDone(d)
	var sess *session
	defer func() {
		if sess != nil {
			sess.close()
		}
	}()
	// committing holds, oldest first, a channel per delivered transaction whose rows' removal
	// is not yet committed (they are in the delivery journal already). The connection goes on
	// sending while they commit, but keeps at most maxUncommitted of them, so that a store
	// slower than the remote servers holds the connections back instead of piling up rows in
	// flight. (The commits of all connections share transactions: the marker groups every
	// removal waiting.)
	var committing []<-chan struct{}
	defer func() {
		for _, c := range committing {
			<-c
		}
	}()
	for {
		batch := s.take(d)
		if batch == nil {
			return
		}
		if !s.rateWait(ctx, d) {
			s.release(ids(batch)...)
			return
		}
		if sess != nil && sess.client.Botched() {
			sess.close()
			sess = nil
		}
		if sess == nil {
			var err error
			sess, err = s.connect(ctx, batch[0])
			if err != nil {
				// What keeps one message from a destination keeps all its waiting mail.
				all := append(batch, s.takeAll(d)...)
				s.failed(ctx, all, repeat(asFailure(err, ""), len(all)))
				return
			}
		}
		if c := s.send(ctx, sess, batch); c != nil {
			committing = append(committing, c)
		}
		for len(committing) > maxUncommitted {
			<-committing[0]
			committing = committing[1:]
		}
	}
}

// maxUncommitted bounds the delivered transactions of one connection whose removal from the
// queue is still being committed.
const maxUncommitted = 3

func ids(rows []store.QueuedMessage) []int64 {
	out := make([]int64, len(rows))
	for i, q := range rows {
		out[i] = q.ID
	}
	return out
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// connect opens a connection for the destination of q: the smarthost, or the first MX host
// that answers.
func (s *Scheduler) connect(ctx context.Context, q store.QueuedMessage) (*session, error) {
	if s.Smarthost.Addr != "" {
		return s.connectSmarthost(ctx)
	}
	r, err := s.route(ctx, q.Domain)
	if err != nil {
		return nil, err
	}
	var last error
	for _, host := range r.hosts {
		sess, err := s.connectHost(ctx, host, r.enforce, r.secure)
		if err == nil {
			return sess, nil
		}
		s.Logger.Debug("queue: host failed", "domain", q.Domain, "host", host, "err", err)
		last = err
	}
	return nil, last
}

// connectHost tries each address of one MX host. mxSecure: the MX answer that named the host
// was authenticated (see route).
func (s *Scheduler) connectHost(ctx context.Context, host string, enforceSTS, mxSecure bool) (*session, error) {
	addrs, addrSecure, err := s.lookupIPAddr(ctx, host)
	if err != nil {
		return nil, temporary("4.4.3", host, "cannot resolve MX host %s: %v", host, err)
	}
	mode, verifyPKIX := smtpclient.TLSOpportunistic, false
	if enforceSTS {
		// RFC 8461 §5: a host of an enforced policy must offer STARTTLS with a valid
		// certificate for its name.
		mode, verifyPKIX = smtpclient.TLSRequiredStartTLS, true
	}
	var daneRecords []adns.TLSA
	// RFC 7672 §2.2: DANE applies only to a host whose MX and address records are both
	// DNSSEC-secure; for any other host TLSA is not even asked, so that a resolver or zone that
	// mishandles the type (REFUSED, SERVFAIL, no answer) cannot hold its mail back.
	if s.Secure != nil && mxSecure && addrSecure {
		records, authentic, err := s.Secure.LookupTLSA(ctx, host, s.Port)
		if err != nil {
			// RFC 7672 §2.2: a secure host whose TLSA lookup fails may be under attack:
			// defer rather than deliver without DANE.
			return nil, temporary("4.4.3", host, "TLSA lookup for %s: %v", host, err)
		}
		// RFC 7672 §2.2: only authenticated, usable TLSA records make TLS mandatory.
		if authentic && len(records) > 0 {
			mode, daneRecords = smtpclient.TLSRequiredStartTLS, records
		}
	}
	var last error
	for _, a := range addrs {
		addr := net.JoinHostPort(a.IP.String(), strconv.Itoa(s.Port))
		sess, err := s.dialSession(ctx, addr, host, mode, verifyPKIX, daneRecords, nil)
		if err != nil && mode == smtpclient.TLSOpportunistic && errors.Is(err, smtpclient.ErrTLS) {
			// Opportunistic TLS that fails its handshake is retried in plain text, as every
			// MTA does: the alternative is not delivering at all.
			sess, err = s.dialSession(ctx, addr, host, smtpclient.TLSSkip, false, nil, nil)
		}
		if err == nil {
			sess.verified = verifyPKIX || daneRecords != nil
			return sess, nil
		}
		last = err
	}
	if last == nil {
		last = temporary("4.4.3", host, "MX host %s has no address", host)
	}
	return nil, last
}

// connectSmarthost connects to the configured relay.
func (s *Scheduler) connectSmarthost(ctx context.Context) (*session, error) {
	host, port, err := net.SplitHostPort(s.Smarthost.Addr)
	if err != nil {
		return nil, temporary("4.3.5", "", "smarthost %q is not host:port", s.Smarthost.Addr)
	}
	mode, verify := smtpclient.TLSOpportunistic, false
	if port == "465" {
		mode, verify = smtpclient.TLSImmediate, true
	} else if s.Smarthost.Username != "" {
		mode, verify = smtpclient.TLSRequiredStartTLS, true
	}
	var auth func([]string, *tls.ConnectionState) (sasl.Client, error)
	if s.Smarthost.Username != "" {
		auth = func(mechanisms []string, _ *tls.ConnectionState) (sasl.Client, error) {
			if !slices.Contains(mechanisms, "PLAIN") {
				return nil, errors.New("smarthost does not offer AUTH PLAIN")
			}
			return sasl.NewClientPlain(s.Smarthost.Username, s.Smarthost.Password), nil
		}
	}
	sess, err := s.dialSession(ctx, s.Smarthost.Addr, host, mode, verify, nil, auth)
	if err != nil {
		return nil, err
	}
	sess.verified = verify
	return sess, nil
}

// dialSession opens a TCP connection to addr and runs the SMTP greeting, EHLO, STARTTLS as mode
// says and AUTH when auth is set.
func (s *Scheduler) dialSession(ctx context.Context, addr, host string, mode smtpclient.TLSMode, verifyPKIX bool,
	daneRecords []adns.TLSA, auth func([]string, *tls.ConnectionState) (sasl.Client, error)) (*session, error) {
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := s.Dial(dctx, "tcp", addr)
	if err != nil {
		return nil, temporary("4.4.1", host, "connect to %s (%s): %v", host, addr, err)
	}
	ehlo, err := dns.ParseDomainLax(s.Hostname)
	if err != nil {
		_ = conn.Close()
		return nil, temporary("4.3.5", "", "hostname %q: %v", s.Hostname, err)
	}
	remote, err := dns.ParseDomainLax(host)
	if err != nil {
		remote = dns.Domain{ASCII: host}
	}
	opts := smtpclient.Opts{RootCAs: s.RootCAs, Auth: auth}
	if daneRecords != nil {
		opts.DANERecords = daneRecords
	}
	client, err := smtpclient.New(dctx, s.Logger, conn, mode, verifyPKIX, ehlo, remote, opts)
	if err != nil {
		_ = conn.Close()
		// A host that refuses the session (a 554 greeting, a 5xx to EHLO) says nothing about
		// the recipients: the next MX host is tried, and when none takes the session the
		// message is retried later, as Postfix does (RFC 5321 §3.1 lets a client do either).
		f := asFailure(err, host)
		if f.Permanent {
			f.Permanent = false
			f.Status = "4" + f.Status[1:]
		}
		return nil, f
	}
	return &session{client: client, host: host}, nil
}

// current drops the rows the operator held or deleted (`posthorn queue`) since they were read.
func (s *Scheduler) current(ctx context.Context, batch []store.QueuedMessage) []store.QueuedMessage {
	out := batch[:0]
	for _, q := range batch {
		now, err := s.Store.GetQueued(ctx, q.ID)
		switch {
		case errors.Is(err, store.ErrNotFound), err == nil && now.Held:
			s.release(q.ID)
		default:
			out = append(out, q)
		}
	}
	return out
}

// send runs one transaction: one message to the recipients of batch. When recipients were
// delivered, it returns a channel closed once their removal from the queue is committed.
func (s *Scheduler) send(ctx context.Context, sess *session, batch []store.QueuedMessage) <-chan struct{} {
	if batch = s.current(ctx, batch); len(batch) == 0 {
		return nil
	}
	first := batch[0]
	if first.RequireTLS && !sess.verified {
		// RFC 8689 §4.2.1: without MTA-STS or DANE the next hop cannot be authenticated.
		s.failed(ctx, batch, repeat(permanent("5.7.30", sess.host,
			"REQUIRETLS: %s is not authenticated by MTA-STS or DANE", sess.host), len(batch)))
		return nil
	}
	body, err := s.Bodies.Open(ctx, first.BlobID)
	if err != nil {
		s.failed(ctx, batch, repeat(temporary("4.3.0", "", "message body %s: %v", first.BlobID, err), len(batch)))
		return nil
	}
	defer body.Close()
	rcpts := make([]string, len(batch))
	for i, q := range batch {
		rcpts[i] = q.Recipient
	}
	// BODY=8BITMIME is asked for only where offered: an 8-bit message goes to a server without
	// 8BITMIME as it is, as Postfix and most MTAs do, rather than bouncing (RFC 6152 §3 would
	// have it converted, which no longer matters in practice). SMTPUTF8 is required only when
	// an address or the header really is UTF-8 (RFC 6531 §3.2); clients ask for it freely.
	req8bit := first.EightBit && sess.client.Supports8BITMIME()
	reqUTF8 := first.SMTPUTF8 && (sess.client.SupportsSMTPUTF8() || needsSMTPUTF8(first, rcpts, body))
	tctx, cancel := context.WithTimeout(ctx, s.Timeout)
	resps, err := sess.client.DeliverMultiple(tctx, first.Sender, rcpts, first.Size, io.NewSectionReader(body, 0, first.Size),
		req8bit, reqUTF8, first.RequireTLS)
	cancel()
	var delivered, failedRows []store.QueuedMessage
	var failures []*failure
	for i, q := range batch {
		var f *failure
		switch {
		case len(resps) == len(batch) && resps[i].Code != 0 && resps[i].Code/100 != 2:
			f = asFailure(smtpclient.Error(resps[i]), sess.host)
		case err != nil:
			f = asFailure(err, sess.host)
		}
		if f == nil {
			delivered = append(delivered, q)
		} else {
			failedRows = append(failedRows, q)
			failures = append(failures, f)
		}
	}
	var committed chan struct{}
	if len(delivered) > 0 {
		// First thing after the 250: one write to the journal, then the marker commits the
		// rows' removal.
		committed = make(chan struct{})
		rows := ids(delivered)
		s.marks <- mark{ids: rows, journaled: s.journalDelivered(rows), done: committed}
		now := s.Now()
		for _, q := range delivered {
			s.record(maillog.Event{Event: "delivered", ID: q.BlobID, From: q.Sender, Rcpt: q.Recipient,
				Result: "delivered", Code: "250", Remote: sess.host, Size: q.Size})
			s.reportOutcome(ctx, q, Outcome{Kind: Delivered, Code: 250, Enhanced: "2.0.0", RemoteMTA: sess.host})
			s.attemptFinished("delivered")
			if s.Metrics != nil {
				s.Metrics.latency.Observe(now.Sub(q.QueuedAt).Seconds())
			}
		}
	}
	if len(failedRows) > 0 {
		s.failed(ctx, failedRows, failures)
	}
	return committed
}

func (s *Scheduler) record(e maillog.Event) {
	if s.MailLog != nil {
		s.MailLog.Record(e)
	}
}

// needsSMTPUTF8 reports whether the sender, a recipient or the message header has a non-ASCII
// byte. It reads the header from body (an io.ReaderAt, so the delivery's reads are unaffected).
func needsSMTPUTF8(q store.QueuedMessage, rcpts []string, body io.ReaderAt) bool {
	if !isASCII(q.Sender) {
		return true
	}
	for _, r := range rcpts {
		if !isASCII(r) {
			return true
		}
	}
	br := bufio.NewReader(io.NewSectionReader(body, 0, q.Size))
	for {
		line, err := br.ReadSlice('\n')
		if len(bytes.TrimRight(line, "\r\n")) == 0 && !errors.Is(err, bufio.ErrBufferFull) {
			return false
		}
		for _, c := range line {
			if c >= 0x80 {
				return true
			}
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return false
		}
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// failure is why a recipient was not delivered.
type failure struct {
	Permanent bool
	Code      int    // SMTP reply code; 0 when the failure is not a reply
	Status    string // RFC 3463 enhanced status code, e.g. "5.1.1"
	Text      string // the reply line, or what went wrong
	RemoteMTA string // the host that replied, "" if none did
	Expired   bool   // Lifetime passed with the row still failing: Permanent is set too
	cause     error  // what the SMTP client returned, for errors.Is
}

func (f *failure) Error() string { return f.Text }
func (f *failure) Unwrap() error { return f.cause }

// temporary is a failure worth retrying; a configuration error is one too (4.3.5): mail waits
// for the operator rather than bouncing.
func temporary(status, host, format string, args ...any) *failure {
	return &failure{Status: status, Text: fmt.Sprintf(format, args...), RemoteMTA: host}
}

func permanent(status, host, format string, args ...any) *failure {
	return &failure{Permanent: true, Status: status, Text: fmt.Sprintf(format, args...), RemoteMTA: host}
}

// asFailure classifies an error of connect or smtpclient: SMTP replies by their code (5xx
// permanent), everything else (network, TLS, DNS) temporary.
func asFailure(err error, host string) *failure {
	var f *failure
	if errors.As(err, &f) {
		return f
	}
	var e smtpclient.Error
	if errors.As(err, &e) {
		out := &failure{Permanent: e.Permanent, Code: e.Code, Text: e.Line, RemoteMTA: host, cause: err}
		if out.Text == "" {
			out.Text = e.Error()
		}
		class := "4"
		if e.Permanent {
			class = "5"
		}
		switch {
		case e.Secode != "":
			out.Status = class + "." + e.Secode
		case errors.Is(e.Err, smtpclient.ErrRequireTLSUnsupported):
			out.Status = "5.7.30"
			out.Permanent = true
		case errors.Is(e.Err, smtpclient.ErrSMTPUTF8Unsupported):
			// RFC 6531 §3.2: the message needs SMTPUTF8 and the next hop lacks it.
			out.Status = "5.6.7"
			out.Permanent = true
		case errors.Is(e.Err, smtpclient.ErrSize):
			// RFC 1870 §6: the message is larger than the server's SIZE.
			out.Status = "5.3.4"
			out.Permanent = true
		case errors.Is(e.Err, smtpclient.ErrTLS):
			out.Status = "4.7.5"
		case e.Code == 0:
			out.Status = class + ".4.0"
		default:
			out.Status = class + ".0.0"
		}
		return out
	}
	f = temporary("4.4.0", host, "%v", err)
	f.cause = err
	return f
}
