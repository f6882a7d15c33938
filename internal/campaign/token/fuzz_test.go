package token

import (
	"testing"
	"time"
)

// FuzzVerify checks that no input panics a Verify method, and that whatever a Verify method
// accepts is exactly the text Sign produces for the fields it returned: an altered token can
// only be accepted by forging the MAC.
func FuzzVerify(f *testing.F) {
	s := Signer{Key: testKey}
	for _, tok := range samples(s) {
		f.Add(tok)
		f.Add(tok[:len(tok)-1])
		f.Add(tok + "a")
	}
	f.Add("")
	f.Add("77777777777777777777777777777777")
	f.Fuzz(func(t *testing.T, tok string) {
		now := time.Unix(0, 0)
		if r, err := s.VerifyOpen(tok); err == nil && s.SignOpen(r) != tok {
			t.Fatalf("open %q accepted as %v", tok, r)
		}
		if r, err := s.VerifyView(tok); err == nil && s.SignView(r) != tok {
			t.Fatalf("view %q accepted as %v", tok, r)
		}
		if r, err := s.VerifyUnsubscribe(tok); err == nil && s.SignUnsubscribe(r) != tok {
			t.Fatalf("unsubscribe %q accepted as %v", tok, r)
		}
		if r, err := s.VerifyBounce(tok); err == nil && s.SignBounce(r) != tok {
			t.Fatalf("bounce %q accepted as %v", tok, r)
		}
		if c, url, err := s.VerifyClick(tok, lookup(testURL)); err == nil && s.SignClick(c, url) != tok {
			t.Fatalf("click %q accepted as %v", tok, c)
		}
		if c, err := s.VerifyConfirm(tok, now); err == nil && s.SignConfirm(c.Subscription, c.Expires) != tok {
			t.Fatalf("confirm %q accepted as %v", tok, c)
		}
		if id, err := s.VerifyPreferences(tok); err == nil && s.SignPreferences(id) != tok {
			t.Fatalf("preferences %q accepted as %d", tok, id)
		}
		ParseAddress(tok)
		ParseAddress("bounce+" + tok + "@example.org")
	})
}
