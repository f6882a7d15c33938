// Package filter is posthorn's inbound verdict: every check on mail arriving at the MX, run at the
// stage of the SMTP session where it can first decide, in parallel within a stage, merged into
// one Verdict (accept to INBOX, accept to Junk, temp-fail, reject) with named reasons.
//
// Stages and their checks:
//
//	connect   Connect: connection rate per IP and per network (/24, /64), in memory -> 421 4.7.0
//	EHLO      Hello: DNSBL lookups of the client IP on the configured zones -> 554 5.7.1
//	MAIL      Mail: sender authentication starts (SPF, RFC 7208; iprev) in the background; its
//	          result joins at the body stage, where DMARC decides with it. iprev depends on
//	          the client address alone: a Connection looks it up at its first transaction and
//	          reuses the answer for the later ones
//	RCPT      RcptAttempt, before the lookup: recipient rate per IP and network -> 451 4.7.1;
//	          Rcpt, for an existing recipient: greylisting of the triplet (client /24 or /64,
//	          sender, recipient) -> 451 4.7.1
//	body      Data: DKIM/ARC/DMARC and the Authentication-Results header, clamd and the
//	          attachment policy in parallel; then the spam classifier, which weighs the
//	          authentication results: the message is tokenised once and scored for each
//	          recipient account in parallel
//
// Clients in the Exempt networks (loopback, the operator's own relays) skip the connect, EHLO and
// RCPT checks; the body checks apply to every client.
//
// Merging: the strongest action wins (Reject > TempFail > Junk > Accept) and its check's reply is
// the one sent; every check's reasons are kept. DMARC p=reject gives 550 5.7.1 (or Junk when
// DMARCRejectToJunk is set), p=quarantine gives Junk. A virus gives 554 5.7.1 with the signature
// in the mail log only; clamd unreachable or too slow gives 451 4.7.1, or, with ClamdFailOpen,
// acceptance with the header X-Posthorn-Virus-Scan: unavailable; with Clamd.AttachmentsOnly, a
// message of text alone is not sent to clamd (clamdscan.go). The spam classifier decides per
// recipient account (JunkAccounts); it rejects the message only when it would reject it for
// every recipient, and sends the copy of a recipient it would reject for to Junk otherwise.
//
// A check that cannot run (a DNS timeout in a DNSBL lookup, the greylist store, the spam model)
// never refuses and is noted as a reason ("dnsbl-error", "spam-error"); clamd is the exception,
// as configured above. Public replies name no host, zone, signature or setting; the reasons,
// with their details (the zone, the signature, the file name), go to the mail log. Every verdict
// is counted in the metrics by stage and action (posthorn_filter_verdicts_total) and its
// reasons by action and name (posthorn_filter_reasons_total). Accepted connections and
// recipients without findings are not counted.
package filter

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"posthorn/internal/dns"
	"posthorn/internal/message"
)

// Filter decides on inbound mail. Set the fields, then use it from any number of sessions at
// once; a nil field turns its check off.
type Filter struct {
	Logger   *slog.Logger
	Metrics  *Metrics
	Resolver dns.Resolver // for DNSBL lookups
	// DNSBL are the DNS block list zones the client IP is looked up in (RFC 5782).
	DNSBL []string
	// Auth is sender authentication: SPF, iprev, DKIM, ARC, DMARC.
	Auth Authenticator
	// DMARCRejectToJunk delivers to Junk what DMARC p=reject would have refused.
	DMARCRejectToJunk bool
	// Spam is the spam classifier.
	Spam SpamClassifier
	// Clamd is the virus scanner.
	Clamd *Clamd
	// ClamdFailOpen accepts a message clamd could not scan, with X-Posthorn-Virus-Scan:
	// unavailable, instead of answering 451 4.7.1.
	ClamdFailOpen bool
	// Attachments is the attachment policy.
	Attachments *AttachmentPolicy
	// Greylist delays the first message of a new (network, sender, recipient) triplet.
	Greylist *Greylist
	// Limits are the connection and recipient rates.
	Limits *RateLimits
	// Timeout bounds each stage's checks together. Default: 60 s.
	Timeout time.Duration
	// Exempt are client networks that the connection and recipient checks (rates, DNSBL,
	// greylisting) leave alone, e.g. loopback and the operator's own servers. Body checks apply
	// to every client.
	Exempt []netip.Prefix
}

// exempt reports whether ip is in an Exempt network.
func (f *Filter) exempt(ip net.IP) bool {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	addr = addr.Unmap()
	for _, p := range f.Exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Envelope is what the body stage knows of the transaction besides the message.
type Envelope struct {
	IP   net.IP
	HELO string
	From string // envelope sender, "" for the null sender
}

// Authenticator verifies who sent a message (internal/mailauth).
type Authenticator interface {
	// Client checks the client address alone (iprev). Its result depends on nothing else, so
	// a Connection asks once, at its first MAIL FROM, and hands the result to every later
	// transaction; reuse is false for a result that must not be kept (a temporary DNS error).
	Client(ctx context.Context, ip net.IP) (client ClientAuth, reuse bool)
	// Sender checks the envelope sender (SPF). It runs at MAIL FROM.
	Sender(ctx context.Context, env Envelope) SenderAuth
	// Message checks the message (DKIM, ARC, DMARC with the sender's SPF result) and returns
	// the Authentication-Results header value, which includes the client's result.
	Message(ctx context.Context, client ClientAuth, sender SenderAuth, r io.ReaderAt, size int64) (MessageAuth, error)
}

// ClientAuth is the Authenticator's result for the client address, handed back to Message.
type ClientAuth any

// SenderAuth is the Authenticator's result at MAIL FROM, handed back to Message.
type SenderAuth any

// MessageAuth is the outcome of sender authentication that the verdict uses.
type MessageAuth struct {
	// DMARC is "pass", "fail", "none", "temperror" or "permerror" (RFC 7489 §11.2).
	DMARC string
	// Policy is the DMARC policy that applies to a failing message after pct=: "none",
	// "quarantine" or "reject".
	Policy string
	// AuthResults is the Authentication-Results header field (RFC 8601), name and CRLF
	// included.
	AuthResults string
	// SPF and DKIM are the results the spam classifier weighs, as RFC 8601 names them; DKIM
	// is "pass" when any signature passed.
	SPF, DKIM string
}

// SpamInput is what the spam classifier knows of a message besides its content.
type SpamInput struct {
	Envelope   Envelope
	Recipients int          // envelope recipients of the transaction
	Auth       *MessageAuth // nil without sender authentication
	// Parsed is the message's MIME structure, parsed once for every body check; nil: the
	// classifier parses the message itself.
	Parsed *message.Parsed
}

// SpamClassifier scores a message for its recipient accounts.
type SpamClassifier interface {
	// Classify scores the message for each account: results[i] and errs[i] are accounts[i]'s.
	// The message is the same for every account, so it need be read and tokenised only once.
	Classify(ctx context.Context, accounts []int64, r io.ReaderAt, size int64, in SpamInput) (results []SpamResult, errs []error)
}

// SpamResult is the classifier's decision for one account: Accept, Junk or Reject.
type SpamResult struct {
	Action Action
	Score  float64
	Reason string // e.g. "spam-score", "blocked-sender"
}

// Connect decides on a new connection from ip before the greeting.
func (f *Filter) Connect(ip net.IP) Verdict {
	var v Verdict
	if f.Limits != nil && !f.exempt(ip) {
		if !f.Limits.allowConnection(ip, time.Now()) {
			v.add(tempFail(Reason{Name: "connection-rate"}, 421, [3]int{4, 7, 0}, "Too many connections from your network, try again later"))
		}
	}
	f.Metrics.count("connect", &v)
	return v
}

// Hello decides on a client once it has introduced itself: DNSBL lookups of ip, in parallel.
func (f *Filter) Hello(ctx context.Context, ip net.IP) Verdict {
	var v Verdict
	if len(f.DNSBL) > 0 && f.Resolver != nil && !f.exempt(ip) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for _, d := range f.dnsbl(ctx, ip) {
			v.add(d)
		}
	}
	f.Metrics.count("connect", &v)
	return v
}

// Connection is the filter's state for one SMTP connection, shared by its transactions: the
// client's result (iprev), which depends on the client address alone, is looked up at the
// first MAIL FROM and reused by the later ones. Its methods are safe for concurrent use.
type Connection struct {
	f      *Filter
	mu     sync.Mutex
	client ClientAuth
	known  bool // client holds a result to reuse
}

// Connection starts the state of a new SMTP connection.
func (f *Filter) Connection() *Connection { return &Connection{f: f} }

// knownClient returns the client's result if a transaction already has one to reuse.
func (c *Connection) knownClient() (ClientAuth, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client, c.known
}

// clientAuth looks up the client's result, or reuses the one known.
func (c *Connection) clientAuth(ctx context.Context, ip net.IP) ClientAuth {
	if client, ok := c.knownClient(); ok {
		return client
	}
	client, reuse := c.f.Auth.Client(ctx, ip)
	// A lookup that the transaction's end or timeout cut short is not the client's answer.
	if reuse && ctx.Err() == nil {
		c.mu.Lock()
		c.client, c.known = client, true
		c.mu.Unlock()
	}
	return client
}

// Transaction is the filter's state for one mail transaction, from MAIL FROM to the end of data.
type Transaction struct {
	f      *Filter
	env    Envelope
	cancel context.CancelFunc
	sender chan authInputs // receives the Authenticator's results once
	rcpts  int             // recipients accepted so far
	auth   authInputs
	joined bool
}

// authInputs are the Authenticator's results before the message: client and sender.
type authInputs struct {
	client ClientAuth
	sender SenderAuth
}

// Mail starts a transaction for env at MAIL FROM, on a connection of its own; see
// Connection.Mail.
func (f *Filter) Mail(ctx context.Context, env Envelope) *Transaction {
	return f.Connection().Mail(ctx, env)
}

// Mail starts a transaction of the connection for env at MAIL FROM; sender authentication
// begins in the background (the client's check beside the sender's, unless an earlier
// transaction has its result), under ctx (the session's: it must outlive the call) and the
// filter's timeout. Close the transaction when it ends.
func (c *Connection) Mail(ctx context.Context, env Envelope) *Transaction {
	f := c.f
	t := &Transaction{f: f, env: env}
	if f.Auth != nil {
		ctx, cancel := context.WithTimeout(ctx, f.timeout())
		t.cancel = cancel
		t.sender = make(chan authInputs, 1)
		go func() {
			var in authInputs
			var wg sync.WaitGroup
			wg.Go(func() { in.client = c.clientAuth(ctx, env.IP) })
			in.sender = f.Auth.Sender(ctx, env)
			wg.Wait()
			t.sender <- in
		}()
	}
	return t
}

// Close releases the transaction's background work.
func (t *Transaction) Close() {
	if t != nil && t.cancel != nil {
		t.cancel()
	}
}

// RcptAttempt counts one RCPT TO against the recipient rates, before the recipient is looked
// up, so that guessing addresses (a directory harvest) is slowed down like sending to many.
func (t *Transaction) RcptAttempt() Verdict {
	var v Verdict
	f := t.f
	if f.Limits != nil && !f.exempt(t.env.IP) && !f.Limits.allowRecipient(t.env.IP, time.Now()) {
		v.add(tempFail(Reason{Name: "recipient-rate"}, 451, [3]int{4, 7, 1}, "Too many recipients from your network, try again later"))
	}
	f.Metrics.count("rcpt", &v)
	return v
}

// Rcpt decides on one recipient that exists: greylisting.
func (t *Transaction) Rcpt(ctx context.Context, rcpt string) Verdict {
	var v Verdict
	f := t.f
	if f.Greylist != nil && !f.exempt(t.env.IP) {
		v.add(f.Greylist.check(ctx, t.env.IP, t.env.From, rcpt))
	}
	if v.Action == Accept {
		t.rcpts++
	}
	f.Metrics.count("rcpt", &v)
	return v
}

// Data decides on the message r (size octets, as it will be stored, our Received header
// included) for the given recipient accounts; see DataParsed.
func (t *Transaction) Data(ctx context.Context, r io.ReaderAt, size int64, accounts []int64) Verdict {
	// The parser never refuses a message: on an error the reader failed, and each check meets
	// that failure itself.
	parsed, _ := message.Parse(r, size)
	return t.data(ctx, r, size, parsed, accounts)
}

// DataParsed decides on the message r, parsed (message.Parse's result: the MIME structure that
// the attachment policy, the virus scan and the spam classifier share, so the message is
// parsed once), for the given recipient accounts. Its checks run in parallel.
func (t *Transaction) DataParsed(ctx context.Context, r io.ReaderAt, parsed *message.Parsed, accounts []int64) Verdict {
	return t.data(ctx, r, parsed.Size, parsed, accounts)
}

// data runs the body checks on r; parsed is nil when the message could not be read.
func (t *Transaction) data(ctx context.Context, r io.ReaderAt, size int64, parsed *message.Parsed, accounts []int64) Verdict {
	f := t.f
	ctx, cancel := context.WithTimeout(ctx, f.timeout())
	defer cancel()
	var v Verdict

	// Each check writes its own slot; merging in slot order keeps the reasons' order stable.
	var auth MessageAuth
	var authDecisions, virus, attach []decision
	var spam []SpamResult
	var spamErrs []error
	var wg sync.WaitGroup
	// Sender authentication, then the classifier, which weighs its results (for every account
	// at once); beside them the virus scan and the attachment policy.
	wg.Go(func() {
		in := SpamInput{Envelope: t.env, Recipients: t.rcpts, Parsed: parsed}
		if f.Auth != nil {
			var err error
			before := t.authInputs(ctx)
			auth, err = f.Auth.Message(ctx, before.client, before.sender, r, size)
			authDecisions = f.authDecisions(auth, err)
			in.Auth = &auth
		}
		if f.Spam != nil && len(accounts) > 0 {
			spam, spamErrs = f.Spam.Classify(ctx, accounts, r, size, in)
		}
	})
	if f.Clamd != nil {
		wg.Go(func() { virus = f.scanVirus(ctx, r, size, parsed) })
	}
	if f.Attachments != nil {
		wg.Go(func() { attach = f.Attachments.check(r, parsed) })
	}
	wg.Wait()

	for _, group := range [][]decision{authDecisions, virus, attach, f.spamDecisions(accounts, spam, spamErrs, &v)} {
		for _, d := range group {
			v.add(d)
		}
	}
	v.AuthResults = auth.AuthResults
	for _, d := range virus {
		if d.reason.Name == "virus-scan-unavailable" && d.action == Accept {
			v.Headers = append(v.Headers, Header{Name: "X-Posthorn-Virus-Scan", Value: "unavailable"})
		}
	}
	f.Metrics.count("data", &v)
	return v
}

// authInputs waits for the client's and sender's checks started at MAIL FROM.
func (t *Transaction) authInputs(ctx context.Context) authInputs {
	if t.joined || t.sender == nil {
		return t.auth
	}
	select {
	case t.auth = <-t.sender:
		t.joined = true
	case <-ctx.Done():
	}
	return t.auth
}

// authDecisions turns DMARC's outcome into actions (RFC 7489 §6.3 p=, §6.6.4 applying policy).
func (f *Filter) authDecisions(a MessageAuth, err error) []decision {
	if err != nil {
		f.Logger.Warn("sender authentication", "err", err)
		return []decision{note(Reason{Name: "auth-error"})}
	}
	if a.DMARC != "fail" {
		return nil
	}
	switch a.Policy {
	case "reject":
		if f.DMARCRejectToJunk {
			return []decision{junk(Reason{Name: "dmarc-reject", Detail: "softened"})}
		}
		return []decision{reject(Reason{Name: "dmarc-reject"}, 550, [3]int{5, 7, 1}, "Message rejected: the sender's domain does not authorize it (DMARC)")}
	case "quarantine":
		return []decision{junk(Reason{Name: "dmarc-quarantine"})}
	}
	return []decision{note(Reason{Name: "dmarc-fail"})}
}

// spamDecisions merges per-account spam results: reject when every account rejects, Junk for
// an account that junks or rejects, INBOX otherwise. A classifier error accepts (logged).
func (f *Filter) spamDecisions(accounts []int64, results []SpamResult, errs []error, v *Verdict) []decision {
	if len(results) == 0 {
		return nil
	}
	var out []decision
	rejects := 0
	seen := map[string]bool{} // one reason per distinct outcome, not per account
	for i, res := range results {
		if errs[i] != nil {
			f.Logger.Warn("spam classifier", "account", accounts[i], "err", errs[i])
			if !seen["spam-error"] {
				seen["spam-error"] = true
				out = append(out, note(Reason{Name: "spam-error"}))
			}
			continue
		}
		if res.Action == Accept {
			continue
		}
		if res.Action == Reject {
			rejects++
		}
		if v.JunkAccounts == nil {
			v.JunkAccounts = map[int64]bool{}
		}
		v.JunkAccounts[accounts[i]] = true
		name := res.Reason
		if name == "" {
			name = "spam"
		}
		if !seen[name] {
			seen[name] = true
			out = append(out, note(Reason{Name: name, Detail: formatScore(res.Score)}))
		}
	}
	if rejects == len(results) {
		out = append(out, reject(Reason{Name: "spam-reject"}, 554, [3]int{5, 7, 1}, "Message rejected as spam"))
	}
	return out
}

func (f *Filter) timeout() time.Duration {
	if f.Timeout > 0 {
		return f.Timeout
	}
	return 60 * time.Second
}

// isIPv4 reports whether ip is an IPv4 (or IPv4-mapped) address.
func isIPv4(ip net.IP) bool { return ip.To4() != nil }

// network returns the client's network for rates and greylisting: the /24 of an IPv4 address,
// the /64 of an IPv6 one, as text ("192.0.2.0/24").
func network(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return (&net.IPNet{IP: v4.Mask(net.CIDRMask(24, 32)), Mask: net.CIDRMask(24, 32)}).String()
	}
	return (&net.IPNet{IP: ip.Mask(net.CIDRMask(64, 128)), Mask: net.CIDRMask(64, 128)}).String()
}

func formatScore(s float64) string {
	if s == 0 {
		return ""
	}
	return strconv.FormatFloat(s, 'f', 2, 64)
}
