package admin

import (
	"context"
	"slices"
	"testing"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func TestAppPasswords(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	password, err := a.AddAppPassword(ctx, "Alice@example.org", "phone")
	if err != nil || password == "" {
		t.Fatalf("AddAppPassword: %q, %v", password, err)
	}
	_, err = a.AddAppPassword(ctx, "alice@example.org", "phone")
	wantError(t, "twice", err, operr.Exists, "name", `alice@example.org already has an app password called "phone"`)
	_, err = a.AddAppPassword(ctx, "alice@example.org", "")
	wantError(t, "no name", err, operr.Invalid, "name", "app password name must not be empty")
	_, err = a.AddAppPassword(ctx, "nobody@example.org", "phone")
	wantError(t, "unknown user", err, operr.NotFound, "address", "unknown user nobody@example.org")
	list, err := a.AppPasswords(ctx, "alice@example.org")
	if err != nil || len(list) != 1 || list[0].Name != "phone" {
		t.Fatalf("AppPasswords: %v, %v", list, err)
	}
	if err := a.RemoveAppPassword(ctx, "alice@example.org", "phone"); err != nil {
		t.Fatal(err)
	}
	err = a.RemoveAppPassword(ctx, "alice@example.org", "phone")
	wantError(t, "remove again", err, operr.NotFound, "name", `alice@example.org has no app password called "phone"`)
}

func TestSendAs(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	if err := a.AddSendAs(ctx, "alice@example.org", "@Other.example"); err != nil {
		t.Fatal(err)
	}
	if err := a.AddSendAs(ctx, "alice@example.org", "Boss@other.example"); err != nil {
		t.Fatal(err)
	}
	err := a.AddSendAs(ctx, "alice@example.org", "@other.example")
	wantError(t, "twice", err, operr.Exists, "send_as", "alice@example.org may already send as @other.example")
	err = a.AddSendAs(ctx, "alice@example.org", "@bad_domain")
	wantError(t, "bad", err, operr.Invalid, "send_as", `send-as "@bad_domain": domain label "bad_domain" has invalid character '_'`)
	list, err := a.SendAs(ctx, "alice@example.org")
	if err != nil || !slices.Equal(list, []string{"@other.example", "boss@other.example"}) {
		t.Errorf("SendAs: %v, %v", list, err)
	}
	if err := a.RemoveSendAs(ctx, "alice@example.org", "@other.example"); err != nil {
		t.Fatal(err)
	}
	err = a.RemoveSendAs(ctx, "alice@example.org", "@other.example")
	wantError(t, "remove again", err, operr.NotFound, "send_as", "alice@example.org has no send-as @other.example")
}

func TestSendLimits(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	l, err := a.SendLimits(ctx, "alice@example.org")
	if err != nil || l != (store.SendLimits{PerHour: store.LimitDefault, PerDay: store.LimitDefault}) {
		t.Errorf("SendLimits of a new account: %+v, %v; want the defaults", l, err)
	}
	want := store.SendLimits{PerHour: 10, PerDay: 0}
	if err := a.SetSendLimits(ctx, "alice@example.org", want); err != nil {
		t.Fatal(err)
	}
	if l, err := a.SendLimits(ctx, "alice@example.org"); err != nil || l != want {
		t.Errorf("SendLimits: %+v, %v; want %+v", l, err, want)
	}
	err = a.SetSendLimits(ctx, "alice@example.org", store.SendLimits{PerHour: 1, PerDay: -7})
	wantError(t, "negative", err, operr.Invalid, "per_day", "limit -7: want a number of recipients, 0 for none, or the default")
}
