package storetest

import (
	"reflect"
	"slices"
	"strings"

	"posthorn/internal/store"
)

func testDomains(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	d := f.domain("Example.ORG")
	if d.Name != "example.org" || d.ID == 0 || d.CreatedAt.IsZero() {
		t.Fatalf("AddDomain = %+v, want name example.org, an id and a creation time", d)
	}
	_, err := s.AddDomain(ctx, "example.org")
	wantErr(t, "AddDomain twice", err, store.ErrExists)

	got, err := s.GetDomain(ctx, "EXAMPLE.org")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != d.ID || got.Name != d.Name || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Fatalf("GetDomain = %+v, want %+v", got, d)
	}
	_, err = s.GetDomain(ctx, "missing.test")
	wantErr(t, "GetDomain of a missing domain", err, store.ErrNotFound)

	f.domain("b.test")
	domains, err := s.ListDomains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := domainNames(domains); !slices.Equal(names, []string{"b.test", "example.org"}) {
		t.Fatalf("ListDomains = %v, want [b.test example.org]", names)
	}

	if err := s.RemoveDomain(ctx, "b.test"); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "RemoveDomain twice", s.RemoveDomain(ctx, "b.test"), store.ErrNotFound)
	_, err = s.GetDomain(ctx, "b.test")
	wantErr(t, "GetDomain of a removed domain", err, store.ErrNotFound)
	domains, err = s.ListDomains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := domainNames(domains); !slices.Equal(names, []string{"example.org"}) {
		t.Fatalf("ListDomains after removal = %v, want [example.org]", names)
	}
}

func testRemoveDomainInUse(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	f.domain("other.test")
	f.account("alice@example.org")
	wantErr(t, "RemoveDomain with an account", s.RemoveDomain(ctx, "example.org"), store.ErrInUse)
	f.removeAccount("alice@example.org")

	f.account("bob@other.test")
	f.alias("team@example.org", "bob@other.test")
	wantErr(t, "RemoveDomain with an alias", s.RemoveDomain(ctx, "example.org"), store.ErrInUse)
	if err := s.RemoveAlias(ctx, "team@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDomain(ctx, "example.org"); err != nil {
		t.Fatalf("RemoveDomain of an emptied domain: %v", err)
	}
}

func testAccounts(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	d := f.domain("example.org")
	f.domain("second.test")
	alice, err := s.AddAccount(ctx, "Alice@Example.org", "hash1")
	if err != nil {
		t.Fatal(err)
	}
	if alice.ID == 0 || alice.Address != "alice@example.org" || alice.DomainID != d.ID ||
		alice.PasswordHash != "hash1" || alice.CreatedAt.IsZero() {
		t.Fatalf("AddAccount = %+v", alice)
	}
	_, err = s.AddAccount(ctx, "alice@example.org", "hash2")
	wantErr(t, "AddAccount twice", err, store.ErrExists)
	_, err = s.AddAccount(ctx, "bob@unknown.test", "hash")
	wantErr(t, "AddAccount in a non-local domain", err, store.ErrUnknownDomain)

	for what, get := range map[string]func() (store.Account, error){
		"GetAccount":     func() (store.Account, error) { return s.GetAccount(ctx, "alice@example.org") },
		"GetAccountByID": func() (store.Account, error) { return s.GetAccountByID(ctx, alice.ID) },
	} {
		got, err := get()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if got.ID != alice.ID || got.Address != alice.Address || got.DomainID != alice.DomainID ||
			got.PasswordHash != alice.PasswordHash || !got.CreatedAt.Equal(alice.CreatedAt) {
			t.Fatalf("%s = %+v, want %+v", what, got, alice)
		}
	}
	_, err = s.GetAccount(ctx, "nobody@example.org")
	wantErr(t, "GetAccount of a missing account", err, store.ErrNotFound)
	_, err = s.GetAccountByID(ctx, alice.ID+1000)
	wantErr(t, "GetAccountByID of a missing account", err, store.ErrNotFound)

	if err := s.SetPassword(ctx, "alice@example.org", "hash3"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetAccount(ctx, "alice@example.org"); err != nil || got.PasswordHash != "hash3" {
		t.Fatalf("after SetPassword: %+v, %v; want hash3", got, err)
	}
	wantErr(t, "SetPassword of a missing account", s.SetPassword(ctx, "nobody@example.org", "x"), store.ErrNotFound)

	bob := f.account("bob@example.org")
	f.account("carol@second.test")
	for domain, want := range map[string][]string{
		"":            {"alice@example.org", "bob@example.org", "carol@second.test"},
		"example.org": {"alice@example.org", "bob@example.org"},
		"second.test": {"carol@second.test"},
	} {
		accounts, err := s.ListAccounts(ctx, domain)
		if err != nil {
			t.Fatal(err)
		}
		if got := accountAddresses(accounts); !slices.Equal(got, want) {
			t.Fatalf("ListAccounts(%q) = %v, want %v", domain, got, want)
		}
	}
	_, err = s.ListAccounts(ctx, "unknown.test")
	wantErr(t, "ListAccounts of a missing domain", err, store.ErrNotFound)

	bobInbox := f.mailbox(bob, "INBOX")
	if gone := f.removeAccount("bob@example.org"); len(gone) != 0 {
		t.Fatalf("RemoveAccount of an account without mail returned blobs %v", gone)
	}
	_, err = s.GetAccount(ctx, "bob@example.org")
	wantErr(t, "GetAccount of a removed account", err, store.ErrNotFound)
	_, err = s.ListMailboxes(ctx, bob.ID)
	wantErr(t, "ListMailboxes of a removed account", err, store.ErrNotFound)
	_, err = s.ListMessages(ctx, bobInbox.ID)
	wantErr(t, "ListMessages of a removed mailbox", err, store.ErrNotFound)
	_, err = s.RemoveAccount(ctx, "bob@example.org")
	wantErr(t, "RemoveAccount twice", err, store.ErrNotFound)
}

func testDefaultMailboxes(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	validities := map[uint32]string{}
	for _, addr := range []string{"alice@example.org", "bob@example.org"} {
		a := f.account(addr)
		boxes, err := s.ListMailboxes(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(boxes) != len(store.DefaultMailboxes) {
			t.Fatalf("%s has %d mailboxes, want %d", addr, len(boxes), len(store.DefaultMailboxes))
		}
		for i, m := range boxes {
			spec := store.DefaultMailboxes[i]
			if m.Name != spec.Name || m.SpecialUse != spec.SpecialUse || m.AccountID != a.ID || m.ID == 0 {
				t.Fatalf("mailbox %d of %s = %+v, want %+v", i, addr, m, spec)
			}
			// RFC 9051 §2.3.1.1: UIDs start at 1; RFC 7162 §3.1.1: HIGHESTMODSEQ is positive.
			if m.UIDNext != 1 || m.HighestModSeq < 1 || m.MessageCount != 0 || m.UIDValidity == 0 {
				t.Fatalf("new mailbox %s of %s = %+v, want UIDNext 1, HighestModSeq >= 1, UIDValidity > 0",
					m.Name, addr, m)
			}
			if other, dup := validities[m.UIDValidity]; dup {
				t.Fatalf("mailbox %s of %s has the UIDVALIDITY %d of %s", m.Name, addr, m.UIDValidity, other)
			}
			validities[m.UIDValidity] = addr + " " + m.Name
			if got := f.mailbox(a, spec.Name); !reflect.DeepEqual(got, m) {
				t.Fatalf("GetMailbox(%s) = %+v, want %+v", spec.Name, got, m)
			}
		}
		// RFC 9051 §5.1: INBOX is case-insensitive.
		if got := f.mailbox(a, "inbox"); !reflect.DeepEqual(got, boxes[0]) {
			t.Fatalf(`GetMailbox("inbox") = %+v, want %+v`, got, boxes[0])
		}
		_, err = s.GetMailbox(ctx, a.ID, "No such folder")
		wantErr(t, "GetMailbox of a missing mailbox", err, store.ErrNotFound)
	}
}

// testUIDValidityNotReused: a mailbox created again under an old name must not reuse the old
// UIDVALIDITY, or clients would keep their cached UIDs for other messages (RFC 9051 §2.3.1.1).
func testUIDValidityNotReused(f *fixture) {
	f.domain("example.org")
	before := f.mailbox(f.account("alice@example.org"), "INBOX")
	f.removeAccount("alice@example.org")
	after := f.mailbox(f.account("alice@example.org"), "INBOX")
	if after.UIDValidity == before.UIDValidity {
		f.t.Fatalf("INBOX created again got the old UIDVALIDITY %d", before.UIDValidity)
	}
}

func testAliases(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	f.account("alice@example.org")
	f.account("bob@example.org")

	team, err := s.AddAlias(ctx, "Team@example.org", []string{"alice@example.org", "BOB@example.org", "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if team.ID == 0 || team.Address != "team@example.org" ||
		!slices.Equal(team.Targets, []string{"alice@example.org", "bob@example.org"}) {
		t.Fatalf("AddAlias = %+v, want team@example.org to alice and bob", team)
	}
	got, err := s.GetAlias(ctx, "team@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if !equalAlias(got, team) {
		t.Fatalf("GetAlias = %+v, want %+v", got, team)
	}

	all := f.alias("all@example.org", "team@example.org") // an alias of an alias
	catchAll := f.alias("@example.org", "alice@example.org")
	aliases, err := s.ListAliases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Alias{catchAll, all, team}
	if !slices.EqualFunc(aliases, want, equalAlias) {
		t.Fatalf("ListAliases = %+v, want %+v", aliases, want)
	}

	if err := s.RemoveAlias(ctx, "@example.org"); err != nil {
		t.Fatal(err)
	}
	_, err = s.GetAlias(ctx, "@example.org")
	wantErr(t, "GetAlias of a removed alias", err, store.ErrNotFound)
	wantErr(t, "RemoveAlias twice", s.RemoveAlias(ctx, "@example.org"), store.ErrNotFound)
	_, err = s.GetAlias(ctx, "nobody@example.org")
	wantErr(t, "GetAlias of a missing alias", err, store.ErrNotFound)
}

func testAliasErrors(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	f.account("alice@example.org")
	f.alias("team@example.org", "alice@example.org")

	_, err := s.AddAlias(ctx, "x@unknown.test", []string{"alice@example.org"})
	wantErr(t, "AddAlias in a non-local domain", err, store.ErrUnknownDomain)
	_, err = s.AddAlias(ctx, "alice@example.org", []string{"team@example.org"})
	wantErr(t, "AddAlias over an account", err, store.ErrExists)
	_, err = s.AddAlias(ctx, "team@example.org", []string{"alice@example.org"})
	wantErr(t, "AddAlias twice", err, store.ErrExists)
	_, err = s.AddAccount(ctx, "team@example.org", "hash")
	wantErr(t, "AddAccount over an alias", err, store.ErrExists)

	_, err = s.AddAlias(ctx, "sales@example.org", []string{"alice@example.org", "ghost@example.org"})
	wantErr(t, "AddAlias to a missing target", err, store.ErrNotFound)
	if !strings.Contains(err.Error(), "ghost@example.org") {
		t.Fatalf("AddAlias error %q does not name the missing target", err)
	}
	_, err = s.AddAlias(ctx, "sales@example.org", []string{"someone@remote.test"})
	wantErr(t, "AddAlias to a remote address", err, store.ErrNotFound)
	if _, err := s.AddAlias(ctx, "sales@example.org", nil); err == nil {
		t.Fatal("AddAlias without target succeeded")
	}
	_, err = s.GetAlias(ctx, "sales@example.org")
	wantErr(t, "GetAlias of a refused alias", err, store.ErrNotFound)
}

// testRemovePrunesAliases: removing an account or alias removes the targets naming it; an alias
// left without target is removed, and so on up the chain.
func testRemovePrunesAliases(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	f.account("alice@example.org")
	f.account("bob@example.org")
	f.alias("team@example.org", "alice@example.org", "bob@example.org")
	f.alias("solo@example.org", "bob@example.org")
	f.alias("outer@example.org", "solo@example.org")
	f.alias("meta@example.org", "team@example.org", "alice@example.org")

	f.removeAccount("bob@example.org")
	if team, err := s.GetAlias(ctx, "team@example.org"); err != nil ||
		!slices.Equal(team.Targets, []string{"alice@example.org"}) {
		t.Fatalf("team after removing bob = %+v, %v; want target alice only", team, err)
	}
	for _, gone := range []string{"solo@example.org", "outer@example.org"} {
		_, err := s.GetAlias(ctx, gone)
		wantErr(t, "GetAlias of "+gone+" left without target", err, store.ErrNotFound)
	}

	if err := s.RemoveAlias(ctx, "team@example.org"); err != nil {
		t.Fatal(err)
	}
	if meta, err := s.GetAlias(ctx, "meta@example.org"); err != nil ||
		!slices.Equal(meta.Targets, []string{"alice@example.org"}) {
		t.Fatalf("meta after removing team = %+v, %v; want target alice only", meta, err)
	}
}

func domainNames(ds []store.Domain) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func accountAddresses(as []store.Account) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Address)
	}
	return out
}

func equalAlias(a, b store.Alias) bool {
	return a.ID == b.ID && a.Address == b.Address && slices.Equal(a.Targets, b.Targets)
}
