package token

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

var (
	testKey  = bytes.Repeat([]byte{0x5a}, 32)
	otherKey = bytes.Repeat([]byte{0xa5}, 32)
)

const testURL = "https://example.org/news?id=7"

func lookup(url string) func(int64, int64) (string, error) {
	return func(int64, int64) (string, error) { return url, nil }
}

// verifyAny tries tok as every kind and returns the kinds that accept it.
func verifyAny(s Signer, tok string) []Kind {
	var kinds []Kind
	now := time.Unix(1_000, 0)
	if _, err := s.VerifyOpen(tok); err == nil {
		kinds = append(kinds, KindOpen)
	}
	if _, _, err := s.VerifyClick(tok, lookup(testURL)); err == nil {
		kinds = append(kinds, KindClick)
	}
	if _, err := s.VerifyView(tok); err == nil {
		kinds = append(kinds, KindView)
	}
	if _, err := s.VerifyUnsubscribe(tok); err == nil {
		kinds = append(kinds, KindUnsubscribe)
	}
	if _, err := s.VerifyBounce(tok); err == nil {
		kinds = append(kinds, KindBounce)
	}
	if _, err := s.VerifyConfirm(tok, now); !errors.Is(err, ErrInvalid) {
		kinds = append(kinds, KindConfirm)
	}
	if _, err := s.VerifyPreferences(tok); err == nil {
		kinds = append(kinds, KindPreferences)
	}
	return kinds
}

// samples returns one token of each kind, signed by s.
func samples(s Signer) map[Kind]string {
	r := Recipient{Campaign: 12, Recipient: 345678}
	return map[Kind]string{
		KindOpen:        s.SignOpen(r),
		KindClick:       s.SignClick(Click{Campaign: 12, Recipient: 345678, Link: 3}, testURL),
		KindView:        s.SignView(r),
		KindUnsubscribe: s.SignUnsubscribe(r),
		KindBounce:      s.SignBounce(r),
		KindConfirm:     s.SignConfirm(99, time.Unix(1_000_000, 0)),
		KindPreferences: s.SignPreferences(4242),
	}
}

func TestRoundTrip(t *testing.T) {
	s := Signer{Key: testKey}
	for _, r := range []Recipient{{1, 1}, {12, 0}, {1 << 40, 1<<63 - 1}, {0, 0}} {
		for name, c := range map[string]struct {
			sign   func(Recipient) string
			verify func(string) (Recipient, error)
		}{
			"open": {s.SignOpen, s.VerifyOpen}, "view": {s.SignView, s.VerifyView},
			"unsubscribe": {s.SignUnsubscribe, s.VerifyUnsubscribe}, "bounce": {s.SignBounce, s.VerifyBounce},
		} {
			tok := c.sign(r)
			if tok != strings.ToLower(tok) || strings.ContainsAny(tok, "=+/") {
				t.Errorf("%s token %q is not lower-case unpadded base32", name, tok)
			}
			got, err := c.verify(tok)
			if err != nil || got != r {
				t.Errorf("%s %v: got %v, %v", name, r, got, err)
			}
		}
	}
	click := Click{Campaign: 7, Recipient: 0, Link: 31}
	got, url, err := s.VerifyClick(s.SignClick(click, testURL), lookup(testURL))
	if err != nil || got != click || url != testURL {
		t.Errorf("click: got %v %q %v", got, url, err)
	}
	exp := time.Date(2027, 1, 2, 3, 4, 5, 0, time.UTC)
	conf, err := s.VerifyConfirm(s.SignConfirm(5, exp), exp.Add(-time.Second))
	if err != nil || conf.Subscription != 5 || !conf.Expires.Equal(exp) {
		t.Errorf("confirm: got %v, %v", conf, err)
	}
	sub, err := s.VerifyPreferences(s.SignPreferences(77))
	if err != nil || sub != 77 {
		t.Errorf("preferences: got %d, %v", sub, err)
	}
	if n := len(s.SignOpen(Recipient{Campaign: 1000, Recipient: 1_000_000})); n > 32 {
		t.Errorf("an open token is %d characters, want a short one", n)
	}
}

func TestConfirmExpired(t *testing.T) {
	s := Signer{Key: testKey}
	exp := time.Unix(2_000_000_000, 0)
	tok := s.SignConfirm(5, exp)
	for _, now := range []time.Time{exp, exp.Add(time.Hour)} {
		c, err := s.VerifyConfirm(tok, now)
		if !errors.Is(err, ErrExpired) || c.Subscription != 5 {
			t.Errorf("at %v: got %v, %v, want ErrExpired", now, c, err)
		}
	}
	// An altered confirm token is invalid, not expired.
	alt := []byte(tok)
	if alt[3] == 'a' {
		alt[3] = 'b'
	} else {
		alt[3] = 'a'
	}
	if _, err := s.VerifyConfirm(string(alt), exp.Add(time.Hour)); !errors.Is(err, ErrInvalid) {
		t.Errorf("altered expired token: %v, want ErrInvalid", err)
	}
}

func TestEveryAlterationRejected(t *testing.T) {
	s := Signer{Key: testKey}
	for kind, tok := range samples(s) {
		if got := verifyAny(s, tok); len(got) != 1 || got[0] != kind {
			t.Fatalf("kind %d: token accepted as %v", kind, got)
		}
		// Every character replaced by every other character of the alphabet, and by a few
		// outside it.
		const alphabet = "abcdefghijklmnopqrstuvwxyz234567ABZ019=-_ "
		for i := range len(tok) {
			for _, c := range alphabet {
				if byte(c) == tok[i] {
					continue
				}
				alt := tok[:i] + string(c) + tok[i+1:]
				if got := verifyAny(s, alt); len(got) != 0 {
					t.Errorf("kind %d: %q (char %d -> %c) accepted as %v", kind, alt, i, c, got)
				}
			}
		}
		// Every single bit of the decoded bytes.
		raw, err := encoding.DecodeString(tok)
		if err != nil {
			t.Fatal(err)
		}
		for bit := range len(raw) * 8 {
			alt := bytes.Clone(raw)
			alt[bit/8] ^= 1 << (bit % 8)
			if got := verifyAny(s, encoding.EncodeToString(alt)); len(got) != 0 {
				t.Errorf("kind %d: bit %d flipped accepted as %v", kind, bit, got)
			}
		}
		// Truncations and extensions.
		for n := range len(tok) {
			if got := verifyAny(s, tok[:n]); len(got) != 0 {
				t.Errorf("kind %d: truncated to %d accepted", kind, n)
			}
		}
		for _, ext := range []string{"a", "aa", "q", "====", tok} {
			if got := verifyAny(s, tok+ext); len(got) != 0 {
				t.Errorf("kind %d: extended by %q accepted", kind, ext)
			}
		}
		if got := verifyAny(s, strings.ToUpper(tok)); len(got) != 0 {
			t.Errorf("kind %d: upper-case accepted by Verify (ParseAddress lower-cases)", kind)
		}
	}
}

func TestOtherKeyRejected(t *testing.T) {
	for kind, tok := range samples(Signer{Key: otherKey}) {
		if got := verifyAny(Signer{Key: testKey}, tok); len(got) != 0 {
			t.Errorf("kind %d signed with another key accepted as %v", kind, got)
		}
	}
	// A short or missing key verifies nothing, even what it signed itself.
	for _, key := range [][]byte{nil, {}, []byte("short")} {
		s := Signer{Key: key}
		if got := verifyAny(s, s.SignOpen(Recipient{1, 2})); len(got) != 0 {
			t.Errorf("key %q: accepted %v", key, got)
		}
	}
}

func TestNegativeIDsRefused(t *testing.T) {
	s := Signer{Key: testKey}
	for _, r := range []Recipient{{-1, 1}, {1, -5}} {
		if got, err := s.VerifyOpen(s.SignOpen(r)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%v: verified as %v, %v", r, got, err)
		}
	}
	if _, err := s.VerifyConfirm(s.SignConfirm(1, time.Unix(-10, 0)), time.Unix(-20, 0)); !errors.Is(err, ErrInvalid) {
		t.Errorf("expiry before 1970: %v", err)
	}
}

func TestClickBoundToURL(t *testing.T) {
	s := Signer{Key: testKey}
	tok := s.SignClick(Click{Campaign: 1, Recipient: 2, Link: 0}, testURL)
	for _, url := range []string{"https://evil.example/", testURL + "&x", "", strings.ToUpper(testURL)} {
		if _, _, err := s.VerifyClick(tok, lookup(url)); !errors.Is(err, ErrInvalid) {
			t.Errorf("click token for %q accepted for %q: %v", testURL, url, err)
		}
	}
	var asked [2]int64
	_, _, err := s.VerifyClick(tok, func(c, l int64) (string, error) {
		asked = [2]int64{c, l}
		return "", errors.New("no such link")
	})
	if err == nil || asked != [2]int64{1, 0} {
		t.Errorf("lookup failure: asked %v, err %v", asked, err)
	}
}

func TestAddress(t *testing.T) {
	s := Signer{Key: testKey}
	tok := s.SignBounce(Recipient{Campaign: 3, Recipient: 9})
	addr := BounceAddress(tok, "news.example.org")
	if addr != "bounce+"+tok+"@news.example.org" {
		t.Fatalf("BounceAddress: %q", addr)
	}
	for _, in := range []string{addr, strings.ToUpper(addr), "<" + addr + ">", " " + addr} {
		a, ok := ParseAddress(in)
		if !ok || a.Kind != KindBounce || a.Token != tok || a.Domain != "news.example.org" {
			t.Errorf("ParseAddress(%q) = %+v, %v", in, a, ok)
			continue
		}
		if r, err := s.VerifyBounce(a.Token); err != nil || r != (Recipient{3, 9}) {
			t.Errorf("%q: verify %v, %v", in, r, err)
		}
	}
	u := UnsubscribeAddress("abc", "Example.ORG")
	if a, ok := ParseAddress(u); !ok || a.Kind != KindUnsubscribe || a.Token != "abc" || a.Domain != "example.org" {
		t.Errorf("ParseAddress(%q) = %+v, %v", u, a, ok)
	}
	for _, bad := range []string{"", "bounce+@x.org", "bounce+abc", "bounce+abc@", "alice@x.org", "bounce@x.org", "xbounce+abc@x.org", "@x.org"} {
		if a, ok := ParseAddress(bad); ok {
			t.Errorf("ParseAddress(%q) = %+v, want not ok", bad, a)
		}
	}
}
