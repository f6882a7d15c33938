package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// directory is a store with only the lookups Resolve uses, holding what a backend's AddAlias
// would refuse: alias cycles and targets that do not exist.
type directory struct {
	store.Store // nil: any other method panics
	domains     map[string]bool
	accounts    map[string]int64
	aliases     map[string][]string
	domainErr   error
}

func (d *directory) GetDomain(_ context.Context, name string) (store.Domain, error) {
	if d.domainErr != nil {
		return store.Domain{}, d.domainErr
	}
	if !d.domains[name] {
		return store.Domain{}, fmt.Errorf("get domain %s: %w", name, store.ErrNotFound)
	}
	return store.Domain{Name: name}, nil
}

func (d *directory) GetAccount(_ context.Context, addr string) (store.Account, error) {
	id, ok := d.accounts[addr]
	if !ok {
		return store.Account{}, fmt.Errorf("get account %s: %w", addr, store.ErrNotFound)
	}
	return store.Account{ID: id, Address: addr}, nil
}

func (d *directory) GetAlias(_ context.Context, addr string) (store.Alias, error) {
	targets, ok := d.aliases[addr]
	if !ok {
		return store.Alias{}, fmt.Errorf("get alias %s: %w", addr, store.ErrNotFound)
	}
	return store.Alias{Address: addr, Targets: targets}, nil
}

func newDirectory() *directory {
	return &directory{
		domains:  map[string]bool{"example.org": true},
		accounts: map[string]int64{"alice@example.org": 1, "bob@example.org": 2},
		aliases: map[string][]string{
			"loop1@example.org": {"loop2@example.org"},
			"loop2@example.org": {"loop1@example.org"},
			"team@example.org":  {"ghost@example.org", "bob@example.org", "alice@example.org"},
			"stale@example.org": {"ghost@example.org"},
			"@example.org":      {"bob@example.org"},
		},
	}
}

func resolve(t *testing.T, s store.Store, addr string) (store.Resolution, error) {
	t.Helper()
	a, err := address.Parse(addr)
	if err != nil {
		t.Fatal(err)
	}
	return store.Resolve(t.Context(), s, a)
}

func TestResolveSkipsMissingTargets(t *testing.T) {
	res, err := resolve(t, newDirectory(), "team@example.org")
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, a := range res.Accounts {
		ids = append(ids, a.ID)
	}
	if !slices.Equal(ids, []int64{1, 2}) || res.Via != "alias" {
		t.Fatalf("Resolve = %v via %s, want accounts [1 2] via alias", ids, res.Via)
	}
}

func TestResolveAliasWithoutTargetFallsToCatchAll(t *testing.T) {
	res, err := resolve(t, newDirectory(), "stale@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != 1 || res.Accounts[0].Address != "bob@example.org" || res.Via != "catch-all" {
		t.Fatalf("Resolve = %+v, want bob via catch-all", res)
	}
}

func TestResolveAliasCycleStops(t *testing.T) {
	_, err := resolve(t, newDirectory(), "loop1@example.org")
	if err == nil || !strings.Contains(err.Error(), "deeper than") {
		t.Fatalf("Resolve of an alias cycle: %v, want a depth error", err)
	}
}

func TestResolveDomainLookupFailure(t *testing.T) {
	d := newDirectory()
	d.domainErr = errors.New("database is locked")
	_, err := resolve(t, d, "alice@example.org")
	if !errors.Is(err, d.domainErr) {
		t.Fatalf("Resolve with a failing store: %v, want the store's error", err)
	}
}
