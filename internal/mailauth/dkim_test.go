package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// signWith returns msg with a DKIM signature by testKey, made with the options given (Domain
// example.com and Selector sel unless set).
func signWith(t *testing.T, msg string, o dkim.SignOptions) []byte {
	t.Helper()
	if o.Domain == "" {
		o.Domain = "example.com"
	}
	if o.Selector == "" {
		o.Selector = "sel"
	}
	o.Signer = crypto.Signer(testKey)
	var out bytes.Buffer
	if err := dkim.Sign(&out, strings.NewReader(msg), &o); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// countingReaderAt counts the bytes read from it.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	return n, err
}

// countingResolver counts the TXT lookups of each name.
type countingResolver struct {
	*fakeDNS
	mu  sync.Mutex
	txt map[string]int
}

func (c *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	c.mu.Lock()
	c.txt[name]++
	c.mu.Unlock()
	return c.fakeDNS.LookupTXT(ctx, name)
}

// TestDKIMWorkOncePerMessage verifies three signatures, two of one key and two of one body
// canonicalization: the body is read once for both forms of body hash, and the key is
// fetched once.
func TestDKIMWorkOncePerMessage(t *testing.T) {
	d := newFakeDNS()
	publishKey(d, "sel", "example.com")
	publishKey(d, "other", "example.com")
	res := &countingResolver{fakeDNS: d, txt: map[string]int{}}
	v := &Verifier{Resolver: res, Hostname: "mx.posthorn.test"}

	body := strings.Repeat("A line of the body, long enough to count.\r\n", 200)
	msg := testMessage("a@example.com") + body
	msg = string(signWith(t, msg, dkim.SignOptions{BodyCanonicalization: dkim.CanonicalizationRelaxed}))
	msg = string(signWith(t, msg, dkim.SignOptions{BodyCanonicalization: dkim.CanonicalizationSimple}))
	msg = string(signWith(t, msg, dkim.SignOptions{Selector: "other", BodyCanonicalization: dkim.CanonicalizationRelaxed}))

	fields, off, err := readHeader(strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	r := &countingReaderAt{r: strings.NewReader(msg)}
	rs := v.dkimResults(context.Background(), fields, newBodyHashes(r, off, int64(len(msg))))
	if len(rs) != 3 {
		t.Fatalf("got %d results, want 3", len(rs))
	}
	for _, r := range rs {
		if r.Status != StatusPass {
			t.Errorf("s=%s: %s (%s), want pass", r.Selector, r.Status, r.Reason)
		}
	}
	if got, want := r.n.Load(), int64(len(msg))-off; got != want {
		t.Errorf("read %d bytes of the message, want the body once (%d)", got, want)
	}
	if n := res.txt["sel._domainkey.example.com"]; n != 1 {
		t.Errorf("key sel looked up %d times, want 1", n)
	}
	if n := res.txt["other._domainkey.example.com"]; n != 1 {
		t.Errorf("key other looked up %d times, want 1", n)
	}
}

// TestDKIMSharesBodyHashWithARC: DKIM and ARC ask for the same form of body hash at the same
// time, and it is computed once.
func TestDKIMSharesBodyHashWithARC(t *testing.T) {
	msg := "body of the message\r\n"
	r := &countingReaderAt{r: strings.NewReader(msg)}
	b := newBodyHashes(r, 0, int64(len(msg)))
	var wg sync.WaitGroup
	sums := make([][]byte, 8)
	for i := range sums {
		wg.Go(func() {
			h, err := b.hash(bodyForm{relaxed: true, limit: -1})
			if err != nil {
				t.Error(err)
			}
			sums[i] = h
		})
	}
	wg.Wait()
	for _, s := range sums[1:] {
		if !bytes.Equal(s, sums[0]) {
			t.Fatalf("different hashes: %x, %x", s, sums[0])
		}
	}
	if got := r.n.Load(); got != int64(len(msg)) {
		t.Errorf("read %d bytes, want %d (one pass)", got, len(msg))
	}
	// A form with a length is a different hash, computed on its own.
	l, err := b.hash(bodyForm{relaxed: true, limit: 4})
	if err != nil || bytes.Equal(l, sums[0]) {
		t.Errorf("l=4 hash %x (%v), whole-body hash %x", l, err, sums[0])
	}
}

// TestDKIMRules checks the rules of dkim.go that do not depend on the cryptography: each case
// changes a valid signature, its key or the clock, and wants one result and reason.
func TestDKIMRules(t *testing.T) {
	signed := func(o dkim.SignOptions) string {
		return string(signWith(t, testMessage("a@example.com"), o))
	}
	base := signed(dkim.SignOptions{})
	for _, tc := range []struct {
		name   string
		msg    string
		dns    func(d *fakeDNS)
		now    time.Time
		status Status
		reason string
	}{
		{name: "valid", msg: base, status: StatusPass},
		{name: "i= in other case and quoted-printable", msg: signed(dkim.SignOptions{Identifier: "a=40News.EXAMPLE.com"}), status: StatusPass},
		{name: "i= outside d=", msg: signed(dkim.SignOptions{Identifier: "a@example.net"}), status: StatusPermError, reason: "i= is not within d="},
		{name: "i= not an address", msg: strings.Replace(base, "d=example.com;", "d=example.com; i=news.example.com;", 1), status: StatusPermError, reason: "i= is not an address"},
		{name: "t=s key, i= in a subdomain", msg: signed(dkim.SignOptions{Identifier: "a@news.example.com"}),
			dns: func(d *fakeDNS) { d.txt["sel._domainkey.example.com"][0] += "; t=s" }, status: StatusPermError, reason: "key requires i= in d= exactly (t=s)"},
		{name: "t=s key, i= in d=", msg: signed(dkim.SignOptions{Identifier: "a@example.com"}),
			dns: func(d *fakeDNS) { d.txt["sel._domainkey.example.com"][0] += "; t=s" }, status: StatusPass},
		{name: "x= passed by Now", msg: signed(dkim.SignOptions{Expiration: time.Now().Add(time.Hour)}), now: time.Now().Add(2 * time.Hour),
			status: StatusPermError, reason: "signature has expired"},
		{name: "x= passed by the system clock, not by Now", msg: signed(dkim.SignOptions{Expiration: time.Now().Add(-time.Hour)}), now: time.Now().Add(-2 * time.Hour),
			status: StatusPass},
		{name: "unknown query method", msg: strings.Replace(base, "d=example.com;", "d=example.com; q=http/well-known;", 1), status: StatusPermError, reason: "unsupported public key query method"},
		{name: "l=", msg: strings.Replace(base, "d=example.com;", "d=example.com; l=3;", 1), status: StatusFail, reason: "message contains an insecure body length tag"},
		{name: "no v=", msg: strings.Replace(base, "v=1;", "", 1), status: StatusPermError, reason: "incompatible signature version"},
		{name: "From not signed", msg: strings.Replace(strings.Replace(base, "h=From", "h=X-From", 1), "h=from", "h=x-from", 1), status: StatusPermError, reason: "From field not signed"},
		{name: "key times out", msg: base, dns: func(d *fakeDNS) { d.fail["sel._domainkey.example.com"] = timeoutError("sel._domainkey.example.com") },
			status: StatusTempError, reason: "key unavailable: lookup sel._domainkey.example.com: i/o timeout"},
		{name: "no key", msg: base, dns: func(d *fakeDNS) { delete(d.txt, "sel._domainkey.example.com") },
			status: StatusPermError, reason: "no key for signature: lookup sel._domainkey.example.com: no such host"},
		{name: "two key records", msg: base, dns: func(d *fakeDNS) {
			d.txt["sel._domainkey.example.com"] = append(d.txt["sel._domainkey.example.com"], "v=DKIM1; p=")
		}, status: StatusPermError, reason: "multiple TXT records found for key"},
		{name: "revoked key", msg: base, dns: func(d *fakeDNS) { d.txt["sel._domainkey.example.com"] = []string{"v=DKIM1; k=ed25519; p="} },
			status: StatusPermError, reason: "key revoked"},
		{name: "key for another algorithm", msg: strings.Replace(base, "a=ed25519-sha256", "a=rsa-sha256", 1), status: StatusPermError, reason: "inappropriate key algorithm"},
		{name: "rsa-sha1", msg: strings.Replace(base, "a=ed25519-sha256", "a=rsa-sha1", 1), status: StatusPermError, reason: "hash algorithm too weak: sha1"},
		{name: "key not for email", msg: base, dns: func(d *fakeDNS) { d.txt["sel._domainkey.example.com"][0] += "; s=other" }, status: StatusPermError, reason: "inappropriate service"},
		{name: "body changed", msg: strings.Replace(base, "Hello.", "Hello!", 1), status: StatusFail, reason: "body hash did not verify"},
		{name: "header changed", msg: strings.Replace(base, "Subject: hello", "Subject: hullo", 1), status: StatusFail, reason: "signature did not verify: invalid Ed25519 signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.msg == base && tc.status != StatusPass && tc.dns == nil {
				t.Fatal("case does not change the message")
			}
			d := newFakeDNS()
			publishKey(d, "sel", "example.com")
			if tc.dns != nil {
				tc.dns(d)
			}
			v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
			if !tc.now.IsZero() {
				v.Now = func() time.Time { return tc.now }
			}
			rs := v.Message(context.Background(), SPFResult{Status: StatusNone}, strings.NewReader(tc.msg), int64(len(tc.msg))).DKIM
			if len(rs) != 1 || rs[0].Status != tc.status || rs[0].Reason != tc.reason {
				t.Errorf("got %+v, want %s (%s)", rs, tc.status, tc.reason)
			}
		})
	}
}

// A key record is parsed once, however many messages it verifies.
func TestDKIMKeyParsedOnce(t *testing.T) {
	d := newFakeDNS()
	publishKey(d, "sel", "example.com")
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	msg := signWith(t, testMessage("a@example.com"), dkim.SignOptions{})
	var first *publicKey
	for range 3 {
		if rs := v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg))).DKIM; rs[0].Status != StatusPass {
			t.Fatalf("%+v", rs)
		}
		v.parsedKeys.mu.Lock()
		if len(v.parsedKeys.keys) != 1 {
			t.Fatalf("%d parsed keys, want 1", len(v.parsedKeys.keys))
		}
		for _, k := range v.parsedKeys.keys {
			if first == nil {
				first = k.key
			} else if k.key != first {
				t.Error("key parsed again")
			}
		}
		v.parsedKeys.mu.Unlock()
	}
}
