package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"posthorn/internal/address"
)

// maxAliasDepth bounds alias-to-alias expansion, so an alias cycle cannot loop.
const maxAliasDepth = 8

// Resolution is what a recipient address resolves to.
type Resolution struct {
	Accounts []Account // the accounts to deliver to, sorted by id, without duplicates
	Via      string    // "account", "alias", "subaddress" or "catch-all"
}

// ErrNoSuchUser means the domain is local but the address has no account, alias or catch-all.
var ErrNoSuchUser = errors.New("no such user")

// Resolve decides where mail for addr goes, in this order: an account with exactly that address;
// an alias; the address without its "+tag" (RFC 5233 sub-addressing) as account or alias; the
// domain's catch-all alias "@domain". A domain that is not local gives ErrUnknownDomain; a local
// domain without a match gives ErrNoSuchUser.
func Resolve(ctx context.Context, s Store, addr address.Address) (Resolution, error) {
	if _, err := s.GetDomain(ctx, addr.Domain); errors.Is(err, ErrNotFound) {
		return Resolution{}, ErrUnknownDomain
	} else if err != nil {
		return Resolution{}, err
	}
	candidates := []struct {
		addr string
		via  string
	}{{addr.String(), "account"}}
	if base, tagged := addr.Base(); tagged {
		candidates = append(candidates, struct{ addr, via string }{base.String(), "subaddress"})
	}
	candidates = append(candidates, struct{ addr, via string }{"@" + addr.Domain, "catch-all"})

	for _, c := range candidates {
		accounts, via, err := expand(ctx, s, c.addr, 0)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return Resolution{}, err
		}
		if c.via != "account" {
			via = c.via
		}
		return Resolution{Accounts: accounts, Via: via}, nil
	}
	return Resolution{}, ErrNoSuchUser
}

// expand resolves one exact address: an account is itself; an alias is the union of its targets.
func expand(ctx context.Context, s Store, addr string, depth int) ([]Account, string, error) {
	if depth > maxAliasDepth {
		return nil, "", fmt.Errorf("alias %s: expansion deeper than %d levels", addr, maxAliasDepth)
	}
	if a, err := s.GetAccount(ctx, addr); err == nil {
		return []Account{a}, "account", nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, "", err
	}
	alias, err := s.GetAlias(ctx, addr)
	if err != nil {
		return nil, "", err
	}
	seen := map[int64]Account{}
	for _, t := range alias.Targets {
		accounts, _, err := expand(ctx, s, t, depth+1)
		if errors.Is(err, ErrNotFound) {
			continue // a target removed since; the others still get the mail
		}
		if err != nil {
			return nil, "", err
		}
		for _, a := range accounts {
			seen[a.ID] = a
		}
	}
	if len(seen) == 0 {
		return nil, "", fmt.Errorf("alias %s has no existing target: %w", addr, ErrNotFound)
	}
	out := make([]Account, 0, len(seen))
	for _, a := range seen {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, "alias", nil
}

// SendAsLister gives an account's send-as grants (SubmissionStore has it).
type SendAsLister interface {
	ListSendAs(ctx context.Context, accountID int64) ([]string, error)
}

// MaySendAs reports whether account acc may use addr as envelope sender or From: its own
// address (with or without a "+tag", RFC 5233), an alias that resolves to it (a domain's
// catch-all does not count: it would hand every address of the domain to its target), or a
// send-as grant, exact or "@domain". Submission and the send API decide with it.
func MaySendAs(ctx context.Context, s Store, grants SendAsLister, acc Account, addr address.Address) (bool, error) {
	if addr.String() == acc.Address {
		return true, nil
	}
	if base, tagged := addr.Base(); tagged && base.String() == acc.Address {
		return true, nil
	}
	res, err := Resolve(ctx, s, addr)
	switch {
	case err == nil && res.Via != "catch-all":
		for _, a := range res.Accounts {
			if a.ID == acc.ID {
				return true, nil
			}
		}
	case err == nil, errors.Is(err, ErrUnknownDomain), errors.Is(err, ErrNoSuchUser):
	default:
		return false, err
	}
	list, err := grants.ListSendAs(ctx, acc.ID)
	if err != nil {
		return false, err
	}
	for _, g := range list {
		if g == addr.String() || g == "@"+addr.Domain {
			return true, nil
		}
	}
	return false, nil
}
