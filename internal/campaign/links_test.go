package campaign

import (
	"strings"
	"testing"

	"posthorn/internal/campaign/render"
	"posthorn/internal/campaign/token"
)

var (
	_ render.Links              = Links{}
	_ render.MailtoUnsubscriber = Links{}
)

// TestLinks: every URL and address of a recipient carries a token of its own kind that
// verifies to the recipient, under the public base.
func TestLinks(t *testing.T) {
	s := newService(t)
	signer, err := s.Signer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.Signer(t.Context())
	if err != nil || string(again.Key) != string(signer.Key) {
		t.Fatalf("the key changed between two calls: %v", err)
	}
	l := Links{Signer: signer, Base: "https://news.example.org/", Domain: "example.org", Campaign: 7, Recipient: 42, Subscriber: 9}
	want := token.Recipient{Campaign: 7, Recipient: 42}
	tail := func(u, path string) string {
		t.Helper()
		tok, ok := strings.CutPrefix(u, "https://news.example.org"+path)
		if !ok {
			t.Fatalf("%s does not start with the base and %s", u, path)
		}
		return tok
	}
	if r, err := signer.VerifyUnsubscribe(tail(l.UnsubscribeURL(), PathUnsubscribe)); err != nil || r != want {
		t.Errorf("unsubscribe: %v, %v", r, err)
	}
	if r, err := signer.VerifyView(tail(l.ViewURL(), PathView)); err != nil || r != want {
		t.Errorf("view: %v, %v", r, err)
	}
	if r, err := signer.VerifyOpen(strings.TrimSuffix(tail(l.OpenURL(), PathOpen), ".gif")); err != nil || r != want {
		t.Errorf("open: %v, %v", r, err)
	}
	if id, err := signer.VerifyPreferences(tail(l.PreferencesURL(), PathPreferences)); err != nil || id != 9 {
		t.Errorf("preferences: %v, %v", id, err)
	}
	c, target, err := signer.VerifyClick(tail(l.ClickURL(3, "https://shop.example/x"), PathClick),
		func(campaign, link int64) (string, error) { return "https://shop.example/x", nil })
	if err != nil || c != (token.Click{Campaign: 7, Recipient: 42, Link: 3}) || target != "https://shop.example/x" {
		t.Errorf("click: %v, %q, %v", c, target, err)
	}
	for _, a := range []string{l.BounceAddress(), l.UnsubscribeMailto()} {
		parsed, ok := token.ParseAddress(a)
		if !ok || parsed.Domain != "example.org" {
			t.Fatalf("%s does not parse as a VERP address", a)
		}
	}
	if b, _ := token.ParseAddress(l.BounceAddress()); b.Kind != token.KindBounce {
		t.Errorf("bounce address kind = %v", b.Kind)
	} else if r, err := signer.VerifyBounce(b.Token); err != nil || r != want {
		t.Errorf("bounce: %v, %v", r, err)
	}
}
