package admin

import (
	"context"
	"testing"

	"posthorn/internal/operr"
)

func TestSetWebAdmin(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	if err := a.SetWebAdmin(ctx, "Alice@example.org", true); err != nil {
		t.Fatal(err)
	}
	acc, err := a.Store.GetAccount(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	admins, err := a.WebAdmins(ctx)
	if err != nil || len(admins) != 1 || !admins[acc.ID] {
		t.Fatalf("admins = %v, %v", admins, err)
	}
	if err := a.SetWebAdmin(ctx, "alice@example.org", false); err != nil {
		t.Fatal(err)
	}
	if admins, err := a.WebAdmins(ctx); err != nil || len(admins) != 0 {
		t.Fatalf("admins after revoking = %v, %v", admins, err)
	}
	err = a.SetWebAdmin(ctx, "nobody@example.org", true)
	wantError(t, "unknown user", err, operr.NotFound, "address", "unknown user nobody@example.org")
}
