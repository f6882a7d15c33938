package storetest

import (
	"slices"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// testResolve runs store.Resolve over the backend: the order of its candidates (account, alias,
// sub-address, catch-all) only works if the backend's lookups answer as documented.
func testResolve(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	f.domain("other.test")
	f.account("alice@example.org")
	f.account("bob@example.org")
	f.account("carol@example.org")
	f.account("dave@other.test")
	f.alias("team@example.org", "alice@example.org", "bob@example.org")
	f.alias("all@example.org", "team@example.org", "carol@example.org", "bob@example.org")
	f.alias("bob+sales@example.org", "carol@example.org")
	f.alias("@example.org", "carol@example.org")

	tests := []struct {
		addr string
		want []string // account addresses, in account id order
		via  string
		err  error
	}{
		{"Alice@Example.ORG", []string{"alice@example.org"}, "account", nil},
		{"team@example.org", []string{"alice@example.org", "bob@example.org"}, "alias", nil},
		{"all@example.org", []string{"alice@example.org", "bob@example.org", "carol@example.org"}, "alias", nil},
		{"alice+news@example.org", []string{"alice@example.org"}, "subaddress", nil},
		{"team+x@example.org", []string{"alice@example.org", "bob@example.org"}, "subaddress", nil},
		{"bob+sales@example.org", []string{"carol@example.org"}, "alias", nil}, // exact before sub-address
		{"nobody@example.org", []string{"carol@example.org"}, "catch-all", nil},
		{"dave+tag@other.test", []string{"dave@other.test"}, "subaddress", nil},
		{"nobody@other.test", nil, "", store.ErrNoSuchUser},
		{"alice@elsewhere.test", nil, "", store.ErrUnknownDomain},
	}
	for _, tt := range tests {
		addr, err := address.Parse(tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		res, err := store.Resolve(ctx, s, addr)
		if tt.err != nil {
			wantErr(t, "Resolve("+tt.addr+")", err, tt.err)
			continue
		}
		if err != nil {
			t.Fatalf("Resolve(%s): %v", tt.addr, err)
		}
		if got := accountAddresses(res.Accounts); !slices.Equal(got, tt.want) || res.Via != tt.via {
			t.Fatalf("Resolve(%s) = %v via %s, want %v via %s", tt.addr, got, res.Via, tt.want, tt.via)
		}
	}
}
