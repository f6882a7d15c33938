package admin

import (
	"context"
	"slices"
	"testing"

	"posthorn/internal/operr"
)

func TestAliases(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	alias, targets, err := a.AddAlias(ctx, "Sales@example.org", []string{"Alice@example.org", "bob@example.org"})
	if err != nil || alias != "sales@example.org" || !slices.Equal(targets, []string{"alice@example.org", "bob@example.org"}) {
		t.Fatalf("AddAlias: %q %v %v", alias, targets, err)
	}
	if _, _, err := a.AddAlias(ctx, "@example.org", []string{"alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = a.AddAlias(ctx, "info@example.org", []string{"nobody@example.org"})
	wantError(t, "unknown target", err, operr.NotFound, "targets",
		"add alias info@example.org: target nobody@example.org is neither an account nor an alias: not found (targets must be local accounts or aliases)")
	_, _, err = a.AddAlias(ctx, "sales@unknown.example", []string{"alice@example.org"})
	wantError(t, "unknown domain", err, operr.NotFound, "alias", "alias sales@unknown.example: its domain is not local")
	_, _, err = a.AddAlias(ctx, "alice@example.org", []string{"bob@example.org"})
	wantError(t, "exists", err, operr.Exists, "alias", "alice@example.org already exists (as an account or alias)")
	_, _, err = a.AddAlias(ctx, "@bad_domain", []string{"bob@example.org"})
	wantError(t, "bad alias", err, operr.Invalid, "alias", `invalid address "@bad_domain": domain label "bad_domain" has invalid character '_'`)
	_, _, err = a.AddAlias(ctx, "info@example.org", []string{"bob"})
	wantError(t, "bad target", err, operr.Invalid, "targets", `target: invalid address "bob": want local@domain`)
	_, _, err = a.AddAlias(ctx, "info@example.org", nil)
	wantError(t, "no target", err, operr.Invalid, "targets", "alias info@example.org: want at least one target")

	aliases, err := a.ListAliases(ctx)
	if err != nil || len(aliases) != 2 {
		t.Fatalf("ListAliases: %v, %v", aliases, err)
	}
	if err := a.RemoveAlias(ctx, "@Example.org"); err != nil {
		t.Fatal(err)
	}
	err = a.RemoveAlias(ctx, "@example.org")
	wantError(t, "remove unknown", err, operr.NotFound, "alias", "unknown alias @example.org")
}
