package admin

import (
	"context"
	"errors"

	"posthorn/internal/address"
	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// ParseAlias normalises an alias (an address, or "@domain" for a domain's catch-all) and its
// targets, of which there must be one at least.
func ParseAlias(alias string, targets []string) (string, []string, error) {
	alias, err := ParseAddressOrDomain("alias", alias)
	if err != nil {
		return "", nil, err
	}
	if len(targets) == 0 {
		return "", nil, operr.New(operr.Invalid, "targets", "", nil, "alias %s: want at least one target", alias)
	}
	normalised := make([]string, 0, len(targets))
	for _, t := range targets {
		addr, err := address.Parse(t)
		if err != nil {
			return "", nil, operr.New(operr.Invalid, "targets", t, err, "target: %v", err)
		}
		normalised = append(normalised, addr.String())
	}
	return alias, normalised, nil
}

// AddAlias delivers mail for alias (an address, or "@domain" for every unknown address of a
// domain) to targets, local accounts or aliases (ParseAlias). It returns the alias and targets
// normalised. An alias whose domain is not local is operr.NotFound for the field "alias".
func (a *Admin) AddAlias(ctx context.Context, alias string, targets []string) (string, []string, error) {
	alias, normalised, err := ParseAlias(alias, targets)
	if err != nil {
		return "", nil, err
	}
	_, err = a.Store.AddAlias(ctx, alias, normalised)
	switch {
	case errors.Is(err, store.ErrUnknownDomain):
		return "", nil, operr.New(operr.NotFound, "alias", alias, err, "alias %s: its domain is not local", alias)
	case errors.Is(err, store.ErrExists):
		return "", nil, operr.New(operr.Exists, "alias", alias, err, "%s already exists (as an account or alias)", alias)
	case errors.Is(err, store.ErrNotFound):
		return "", nil, operr.New(operr.NotFound, "targets", "", err, "%v (targets must be local accounts or aliases)", err)
	case err != nil:
		return "", nil, err
	}
	return alias, normalised, a.record(ctx, "alias.add", alias, audit.Details{"targets": normalised})
}

// ListAliases returns every alias with its targets.
func (a *Admin) ListAliases(ctx context.Context) ([]store.Alias, error) {
	return a.Store.ListAliases(ctx)
}

// RemoveAlias removes an alias (an address or "@domain").
func (a *Admin) RemoveAlias(ctx context.Context, alias string) error {
	alias, err := ParseAddressOrDomain("alias", alias)
	if err != nil {
		return err
	}
	if err := a.Store.RemoveAlias(ctx, alias); errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "alias", alias, err, "unknown alias %s", alias)
	} else if err != nil {
		return err
	}
	return a.record(ctx, "alias.remove", alias, nil)
}
