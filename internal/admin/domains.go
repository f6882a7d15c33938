package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/mailauth"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// AddDomain adds a local domain with its DKIM keys (mailauth.EnsureDKIMKeys) and returns the
// keys; a store without submission data gets none.
func (a *Admin) AddDomain(ctx context.Context, name string) ([]store.DKIMKey, error) {
	name, err := ParseDomain("domain", name)
	if err != nil {
		return nil, err
	}
	if _, err := a.Store.AddDomain(ctx, name); errors.Is(err, store.ErrExists) {
		return nil, operr.New(operr.Exists, "domain", name, err, "domain %s already exists", name)
	} else if err != nil {
		return nil, err
	}
	if err := a.record(ctx, "domain.add", name, nil); err != nil {
		return nil, err
	}
	ss, ok := a.Store.(store.SubmissionStore)
	if !ok {
		return nil, nil
	}
	return mailauth.EnsureDKIMKeys(ctx, ss, name, time.Now())
}

// ListDomains returns the local domains.
func (a *Admin) ListDomains(ctx context.Context) ([]store.Domain, error) {
	return a.Store.ListDomains(ctx)
}

// RemoveDomain removes a domain that has no accounts or aliases left.
func (a *Admin) RemoveDomain(ctx context.Context, name string) error {
	name, err := ParseDomain("domain", name)
	if err != nil {
		return err
	}
	switch err := a.Store.RemoveDomain(ctx, name); {
	case errors.Is(err, store.ErrNotFound):
		return operr.New(operr.NotFound, "domain", name, err, "unknown domain %s", name)
	case errors.Is(err, store.ErrInUse):
		return operr.New(operr.InUse, "domain", name, err, "domain %s still has accounts or aliases; remove them first", name)
	case err != nil:
		return err
	}
	return a.record(ctx, "domain.remove", name, nil)
}

// DomainKeys returns the DKIM keys of a local domain, for the DNS records to publish,
// generating them first if it has none.
func (a *Admin) DomainKeys(ctx context.Context, name string) ([]store.DKIMKey, error) {
	name, err := ParseDomain("domain", name)
	if err != nil {
		return nil, err
	}
	if _, err := a.Store.GetDomain(ctx, name); err != nil {
		return nil, operr.New(operr.NotFound, "domain", name, err, "unknown domain %s", name)
	}
	ss, ok := a.Store.(store.SubmissionStore)
	if !ok {
		return nil, nil
	}
	return mailauth.EnsureDKIMKeys(ctx, ss, name, time.Now())
}

// EnsureDKIMKeys gives every domain without DKIM keys its pair (mailauth.EnsureDKIMKeys), as
// domains added before DKIM signing existed need, and returns the domains it gave keys to.
func (a *Admin) EnsureDKIMKeys(ctx context.Context) ([]string, error) {
	ss, ok := a.Store.(store.SubmissionStore)
	if !ok {
		return nil, nil
	}
	domains, err := a.Store.ListDomains(ctx)
	if err != nil {
		return nil, err
	}
	var generated []string
	for _, d := range domains {
		existing, err := ss.DKIMKeys(ctx, d.Name)
		if err != nil {
			return generated, err
		}
		if len(existing) > 0 {
			continue
		}
		if _, err := mailauth.EnsureDKIMKeys(ctx, ss, d.Name, time.Now()); err != nil {
			return generated, fmt.Errorf("dkim keys of %s: %w", d.Name, err)
		}
		generated = append(generated, d.Name)
	}
	return generated, nil
}

// Bootstrap prepares an empty data directory: the domain, with its DKIM keys, and the account
// postmaster@domain with a random password, which it returns. When any domain exists already
// it does nothing and returns "".
func (a *Admin) Bootstrap(ctx context.Context, domain string) (string, error) {
	domains, err := a.Store.ListDomains(ctx)
	if err != nil || len(domains) > 0 {
		return "", err
	}
	name, err := address.ParseDomain(domain)
	if err != nil {
		return "", operr.New(operr.Invalid, "domain", domain, err, "bootstrap domain %q: %v", domain, err)
	}
	if _, err := a.AddDomain(ctx, name); err != nil {
		return "", err
	}
	password, err := auth.RandomPassword()
	if err != nil {
		return "", err
	}
	if _, err := credentials.AddAccount(ctx, a.Credentials, "postmaster@"+name, password); err != nil {
		return "", err
	}
	return password, a.record(ctx, "user.add", "postmaster@"+name, nil)
}

// GetDomain returns a local domain.
func (a *Admin) GetDomain(ctx context.Context, name string) (store.Domain, error) {
	name, err := ParseDomain("domain", name)
	if err != nil {
		return store.Domain{}, err
	}
	d, err := a.Store.GetDomain(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Domain{}, operr.New(operr.NotFound, "domain", name, err, "unknown domain %s", name)
	}
	return d, err
}
