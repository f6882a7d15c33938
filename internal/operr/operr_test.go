package operr

import (
	"errors"
	"fmt"
	"testing"
)

func TestAs(t *testing.T) {
	cause := errors.New("no such row")
	err := fmt.Errorf("remove list: %w", New(NotFound, "list", "news", cause, "no list %q", "news"))
	e, ok := As(err, NotFound, "list")
	if !ok || e.Value != "news" || e.Message != `no list "news"` || !errors.Is(err, cause) {
		t.Fatalf("As = %+v, %v", e, ok)
	}
	if _, ok := As(err, NotFound, "address"); ok {
		t.Error("As matched another field")
	}
	if _, ok := As(err, Invalid, ""); ok {
		t.Error("As matched another code")
	}
	if _, ok := As(cause, NotFound, ""); ok {
		t.Error("As matched a plain error")
	}
}

func TestParseAddress(t *testing.T) {
	if got, err := ParseAddress("address", "Alice@Example.ORG"); err != nil || got != "alice@example.org" {
		t.Errorf("ParseAddress = %q, %v", got, err)
	}
	_, err := ParseAddress("email", "alice.example.org")
	if e, ok := As(err, Invalid, "email"); !ok || e.Value != "alice.example.org" {
		t.Errorf("ParseAddress of a bad address = %v", err)
	}
}
