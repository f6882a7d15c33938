package filter

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/dns"
	"posthorn/internal/store/sqlite"
	"posthorn/internal/testutil/dnstest"
)

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// fakeAuth answers Message with a fixed result and records what Sender saw.
type fakeAuth struct {
	result MessageAuth
	err    error
	sender chan Envelope
}

func (a *fakeAuth) Client(ctx context.Context, ip net.IP) (ClientAuth, bool) {
	return "client-" + ip.String(), true
}

func (a *fakeAuth) Sender(ctx context.Context, env Envelope) SenderAuth {
	if a.sender != nil {
		a.sender <- env
	}
	return "spf-of-" + env.From
}

func (a *fakeAuth) Message(ctx context.Context, client ClientAuth, sender SenderAuth, r io.ReaderAt, size int64) (MessageAuth, error) {
	res := a.result
	res.SPF = sender.(string)
	return res, a.err
}

// fakeSpam answers per account and records the signals it got.
type fakeSpam struct {
	results map[int64]SpamResult
	mu      sync.Mutex
	in      SpamInput
}

func (s *fakeSpam) Classify(ctx context.Context, accounts []int64, r io.ReaderAt, size int64, in SpamInput) ([]SpamResult, []error) {
	s.mu.Lock()
	s.in = in
	s.mu.Unlock()
	results, errs := make([]SpamResult, len(accounts)), make([]error, len(accounts))
	for i, acc := range accounts {
		var ok bool
		if results[i], ok = s.results[acc]; !ok {
			errs[i] = errors.New("no model")
		}
	}
	return results, errs
}

func dataVerdict(f *Filter, accounts ...int64) Verdict {
	msg := "Subject: hi\r\n\r\nhello\r\n"
	tx := f.Mail(context.Background(), Envelope{IP: net.ParseIP("192.0.2.7"), HELO: "mx.example.net", From: "a@example.net"})
	defer tx.Close()
	return tx.Data(context.Background(), strings.NewReader(msg), int64(len(msg)), accounts)
}

func TestDMARCVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name           string
		auth           MessageAuth
		soften         bool
		action         Action
		reply, reasons string
	}{
		{"pass", MessageAuth{DMARC: "pass", AuthResults: "mx.example.org; dmarc=pass"}, false, Accept, "", ""},
		{"reject", MessageAuth{DMARC: "fail", Policy: "reject"}, false, Reject, "550 5.7.1", "dmarc-reject"},
		{"reject softened", MessageAuth{DMARC: "fail", Policy: "reject"}, true, Junk, "", "dmarc-reject(softened)"},
		{"quarantine", MessageAuth{DMARC: "fail", Policy: "quarantine"}, false, Junk, "", "dmarc-quarantine"},
		{"p=none", MessageAuth{DMARC: "fail", Policy: "none"}, false, Accept, "", "dmarc-fail"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Filter{Logger: discard(), Auth: &fakeAuth{result: tc.auth}, DMARCRejectToJunk: tc.soften}
			v := dataVerdict(f, 1)
			if v.Action != tc.action || v.Reply() != tc.reply || v.ReasonNames() != tc.reasons {
				t.Fatalf("got %v %q %q", v.Action, v.Reply(), v.ReasonNames())
			}
			if v.AuthResults != tc.auth.AuthResults {
				t.Fatalf("AuthResults %q", v.AuthResults)
			}
			if strings.Contains(strings.ToLower(v.Text), "example") {
				t.Fatalf("public text names a domain: %q", v.Text)
			}
			wantBox := "INBOX"
			if tc.action == Junk {
				wantBox = "Junk"
			}
			if v.Action <= Junk && v.Mailbox(1) != wantBox {
				t.Fatalf("mailbox %q", v.Mailbox(1))
			}
		})
	}
}

func TestSenderAuthStartsAtMail(t *testing.T) {
	auth := &fakeAuth{sender: make(chan Envelope, 1)}
	f := &Filter{Logger: discard(), Auth: auth}
	tx := f.Mail(context.Background(), Envelope{IP: net.ParseIP("192.0.2.7"), From: "a@example.net"})
	defer tx.Close()
	select {
	case env := <-auth.sender:
		if env.From != "a@example.net" {
			t.Fatalf("sender %+v", env)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("sender authentication did not start at MAIL FROM")
	}
}

func TestSpamPerAccount(t *testing.T) {
	spam := &fakeSpam{results: map[int64]SpamResult{
		1: {Action: Accept, Score: 0.1},
		2: {Action: Junk, Score: 0.95, Reason: "spam-score"},
		3: {Action: Reject, Score: 0.999, Reason: "spam-score"},
	}}
	f := &Filter{Logger: discard(), Spam: spam, Auth: &fakeAuth{result: MessageAuth{DMARC: "pass"}}}
	v := dataVerdict(f, 1, 2, 3)
	if v.Action != Accept || v.Mailbox(1) != "INBOX" || v.Mailbox(2) != "Junk" || v.Mailbox(3) != "Junk" {
		t.Fatalf("per-account: %+v", v)
	}
	if v.ReasonNames() != "spam-score(0.95)" {
		t.Fatalf("reasons %q", v.ReasonNames())
	}
	if spam.in.Auth == nil || spam.in.Auth.SPF != "spf-of-a@example.net" || spam.in.Envelope.From != "a@example.net" {
		t.Fatalf("classifier did not get the envelope and authentication results: %+v", spam.in)
	}
	// Every recipient rejects: the message is refused.
	v = dataVerdict(f, 3)
	if v.Action != Reject || v.Reply() != "554 5.7.1" {
		t.Fatalf("all reject: %+v", v)
	}
	// A classifier error never refuses.
	v = dataVerdict(f, 4)
	if v.Action != Accept || v.ReasonNames() != "spam-error" {
		t.Fatalf("classifier error: %+v", v)
	}
}

func TestStrongestActionWins(t *testing.T) {
	var v Verdict
	v.add(junk(Reason{Name: "dmarc-quarantine"}))
	v.add(tempFail(Reason{Name: "virus-scan-unavailable"}, 451, [3]int{4, 7, 1}, "later"))
	v.add(note(Reason{Name: "dnsbl-error"}))
	if v.Action != TempFail || v.Result() != "virus-scan-unavailable" {
		t.Fatalf("%+v", v)
	}
	v.add(reject(Reason{Name: "virus", Detail: "X"}, 554, [3]int{5, 7, 1}, "no"))
	v.add(tempFail(Reason{Name: "later"}, 451, [3]int{4, 7, 1}, "later"))
	if v.Action != Reject || v.Reply() != "554 5.7.1" || v.Result() != "virus" {
		t.Fatalf("%+v", v)
	}
	if got := v.ReasonNames(); got != "dmarc-quarantine,virus-scan-unavailable,dnsbl-error,virus(X),later" {
		t.Fatalf("reasons %q", got)
	}
}

func TestRateLimits(t *testing.T) {
	l := &RateLimits{ConnectionsPerIP: 3, ConnectionsPerNet: 5, RecipientsPerIP: 2}
	now := time.Unix(1_700_000_000, 0)
	a, b, c := net.ParseIP("198.51.100.1"), net.ParseIP("198.51.100.2"), net.ParseIP("203.0.113.9")
	for i := 0; i < 3; i++ {
		if !l.allowConnection(a, now) {
			t.Fatalf("connection %d refused", i)
		}
	}
	if l.allowConnection(a, now) {
		t.Fatal("fourth connection per minute from one address allowed")
	}
	if !l.allowConnection(b, now) || !l.allowConnection(b, now) {
		t.Fatal("neighbour refused before its network's limit")
	}
	if l.allowConnection(b, now) {
		t.Fatal("sixth connection from one /24 allowed")
	}
	if !l.allowConnection(c, now) {
		t.Fatal("another network refused")
	}
	// Tokens come back at the rate: 20 s is a third of a minute, one connection from a.
	later := now.Add(20 * time.Second)
	if !l.allowConnection(a, later) || l.allowConnection(a, later) {
		t.Fatal("refill wrong")
	}
	exempt := &Filter{Logger: discard(), Limits: l, Exempt: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	if v := exempt.Connect(a); v.Action != Accept {
		t.Fatalf("exempt network limited: %+v", v)
	}
	// IPv6 networks are /64s.
	l6 := &RateLimits{ConnectionsPerNet: 1}
	if !l6.allowConnection(net.ParseIP("2001:db8:1:2::1"), now) || l6.allowConnection(net.ParseIP("2001:db8:1:2:ffff::9"), now) {
		t.Fatal("one /64 not limited as one network")
	}
	if !l6.allowConnection(net.ParseIP("2001:db8:1:3::1"), now) {
		t.Fatal("another /64 refused")
	}
	// Recipients count separately.
	f := &Filter{Logger: discard(), Limits: l}
	tx := f.Mail(context.Background(), Envelope{IP: a, From: "x@example.net"})
	for i, want := range []Action{Accept, Accept, TempFail} {
		v := tx.RcptAttempt()
		if v.Action != want || want == TempFail && v.Reply() != "451 4.7.1" {
			t.Fatalf("recipient %d: %+v", i, v)
		}
	}
}

func TestRateLimitMemoryIsBounded(t *testing.T) {
	l := &RateLimits{ConnectionsPerIP: 10, MaxEntries: 100}
	now := time.Unix(1_700_000_000, 0)
	for i := 0; i < 10_000; i++ {
		ip := net.IPv4(10, byte(i>>16), byte(i>>8), byte(i))
		l.allowConnection(ip, now)
	}
	if n := len(l.buckets); n > 100 {
		t.Fatalf("%d buckets kept, bound 100", n)
	}
}

func TestConnectStageRate(t *testing.T) {
	f := &Filter{Logger: discard(), Limits: &RateLimits{ConnectionsPerIP: 1}}
	ip := net.ParseIP("192.0.2.1")
	if v := f.Connect(ip); v.Action != Accept {
		t.Fatalf("%+v", v)
	}
	if v := f.Connect(ip); v.Action != TempFail || v.Reply() != "421 4.7.0" {
		t.Fatalf("%+v", v)
	}
}

func TestDNSBL(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{
		"2.0.0.127.bl.example.":    {"2.0.0.127.bl.example. 60 IN A 127.0.0.2"},
		"3.0.0.127.bl.example.":    {"3.0.0.127.bl.example. 60 IN A 127.255.255.254"}, // the list refused the query
		"1.0.0.127.other.example.": {"1.0.0.127.other.example. 60 IN A 127.0.0.4"},
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example.": {
			"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.example. 60 IN A 127.0.0.2"},
	})
	srv.SetFailure("9.0.0.127.bl.example.", dnstest.ServFail)
	f := &Filter{Logger: discard(), Resolver: dns.New(srv.Addr), DNSBL: []string{"bl.example", "other.example."}}
	for ip, want := range map[string]string{
		"127.0.0.2":   "dnsbl(bl.example)",
		"127.0.0.3":   "",
		"127.0.0.1":   "dnsbl(other.example.)",
		"127.0.0.5":   "",
		"127.0.0.9":   "dnsbl-error(bl.example)",
		"2001:db8::1": "dnsbl(bl.example)",
	} {
		v := f.Hello(context.Background(), net.ParseIP(ip))
		if got := v.ReasonNames(); got != want {
			t.Errorf("%s: reasons %q, want %q", ip, got, want)
		}
		if strings.HasPrefix(want, "dnsbl(") && (v.Action != Reject || v.Reply() != "554 5.7.1" || strings.Contains(v.Text, "example")) {
			t.Errorf("%s: %+v", ip, v)
		}
		if !strings.HasPrefix(want, "dnsbl(") && v.Action != Accept {
			t.Errorf("%s: %+v", ip, v)
		}
	}
}

func TestGreylist(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "posthorn.db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	g := &Greylist{Store: st, Delay: 5 * time.Minute, Expiry: 24 * time.Hour, Logger: discard(), Now: func() time.Time { return now }}
	f := &Filter{Logger: discard(), Greylist: g}
	rcpt := func(ip, from, to string) Verdict {
		tx := f.Mail(ctx, Envelope{IP: net.ParseIP(ip), From: from})
		defer tx.Close()
		return tx.Rcpt(ctx, to)
	}
	if v := rcpt("192.0.2.10", "a@example.net", "alice@example.org"); v.Action != TempFail || v.Reply() != "451 4.7.1" || v.Result() != "greylisted" {
		t.Fatalf("first attempt: %+v", v)
	}
	now = now.Add(time.Minute)
	if v := rcpt("192.0.2.10", "a@example.net", "alice@example.org"); v.Action != TempFail {
		t.Fatalf("retry before the delay: %+v", v)
	}
	now = now.Add(5 * time.Minute)
	// Another server of the same /24 retries: it passes.
	if v := rcpt("192.0.2.99", "A@example.net", "alice@example.org"); v.Action != Accept {
		t.Fatalf("retry after the delay: %+v", v)
	}
	if v := rcpt("192.0.2.10", "a@example.net", "bob@example.org"); v.Action != TempFail {
		t.Fatalf("new recipient: %+v", v)
	}
	// State survives a restart.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g.Store = st
	now = now.Add(time.Hour)
	if v := rcpt("192.0.2.10", "a@example.net", "alice@example.org"); v.Action != Accept {
		t.Fatalf("after restart: %+v", v)
	}
	// Forgotten after the expiry.
	now = now.Add(25 * time.Hour)
	if v := rcpt("192.0.2.10", "a@example.net", "alice@example.org"); v.Action != TempFail {
		t.Fatalf("after expiry: %+v", v)
	}
	f.Exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	if v := rcpt("127.0.0.1", "a@example.net", "carol@example.org"); v.Action != Accept {
		t.Fatalf("exempt client greylisted: %+v", v)
	}
	if v := rcpt("::ffff:127.0.0.1", "a@example.net", "dave@example.org"); v.Action != Accept {
		t.Fatalf("exempt mapped client greylisted: %+v", v)
	}
}
