package admin

import (
	"context"
	"testing"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func TestSetLegalHold(t *testing.T) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Kind: audit.KindCLI, Name: "root"})
	a := newDirectory(t)
	if err := a.SetLegalHold(ctx, "Alice@example.org", true); err != nil {
		t.Fatal(err)
	}
	acc, err := a.Store.GetAccount(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	holds, err := a.LegalHolds(ctx)
	if err != nil || len(holds) != 1 || holds[acc.ID].IsZero() {
		t.Fatalf("holds = %v, %v", holds, err)
	}
	err = a.RemoveAccount(ctx, "alice@example.org")
	wantError(t, "removing a held account", err, operr.InUse, "address",
		"alice@example.org is under legal hold; lift it first (posthorn user hold alice@example.org off)")
	if _, err := a.Store.GetAccount(ctx, "alice@example.org"); err != nil {
		t.Fatalf("the held account is gone: %v", err)
	}
	if err := a.SetLegalHold(ctx, "alice@example.org", false); err != nil {
		t.Fatal(err)
	}
	if holds, err := a.LegalHolds(ctx); err != nil || len(holds) != 0 {
		t.Fatalf("holds after lifting = %v, %v", holds, err)
	}
	err = a.SetLegalHold(ctx, "nobody@example.org", true)
	wantError(t, "unknown user", err, operr.NotFound, "address", "unknown user nobody@example.org")
	err = a.SetLegalHold(ctx, "not an address", true)
	if _, ok := operr.As(err, operr.Invalid, "address"); !ok {
		t.Errorf("bad address: %v", err)
	}
	if err := a.RemoveAccount(ctx, "alice@example.org"); err != nil {
		t.Fatalf("removing the account once its hold is lifted: %v", err)
	}
	log, err := a.Audit()
	if err != nil {
		t.Fatal(err)
	}
	entries, err := log.List(ctx, store.AuditFilter{Action: "user.legal_hold"})
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0].Target != "alice@example.org" || entries[0].Details != `{"hold":true}` ||
		entries[0].ActorKind != "cli" || entries[0].Actor != "root" || entries[1].Details != `{"hold":false}` {
		t.Errorf("audit entries = %+v", entries)
	}
}
