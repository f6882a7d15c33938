package admin

import (
	"context"
	"errors"
	"fmt"

	"posthorn/internal/address"
	"posthorn/internal/audit"
	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// AddAccount creates an account with the default mailboxes and password (credentials.AddAccount).
// Its domain must be local: an unknown one is operr.NotFound for the field "domain".
func (a *Admin) AddAccount(ctx context.Context, addr, password string) (store.Account, error) {
	parsed, err := address.Parse(addr)
	if err != nil {
		return store.Account{}, &operr.Error{Code: operr.Invalid, Field: "address", Value: addr, Message: err.Error(), Err: err}
	}
	addr = parsed.String()
	if err := CheckPassword(password); err != nil {
		return store.Account{}, err
	}
	acc, err := credentials.AddAccount(ctx, a.Credentials, addr, password)
	switch {
	case errors.Is(err, store.ErrUnknownDomain):
		return store.Account{}, operr.New(operr.NotFound, "domain", parsed.Domain, err, "unknown domain %s", parsed.Domain)
	case errors.Is(err, store.ErrExists):
		return store.Account{}, operr.New(operr.Exists, "address", addr, err, "%s already exists (as an account or alias)", addr)
	case err != nil:
		return store.Account{}, err
	}
	return acc, a.record(ctx, "user.add", addr, nil)
}

// SetPassword replaces an account's password (credentials.SetPassword).
func (a *Admin) SetPassword(ctx context.Context, addr, password string) error {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	if err := credentials.SetPassword(ctx, a.Credentials, addr, password); errors.Is(err, store.ErrNotFound) {
		return unknownUser("address", addr, err)
	} else if err != nil {
		return err
	}
	return a.record(ctx, "user.password", addr, nil)
}

// CheckPassword refuses a password too weak to set (auth.CheckNewPassword).
func CheckPassword(password string) error {
	if err := auth.CheckNewPassword(password); err != nil {
		return &operr.Error{Code: operr.Invalid, Field: "password", Message: err.Error(), Err: err}
	}
	return nil
}

// ListAccounts returns the accounts of domain, or of every domain when domain is "".
func (a *Admin) ListAccounts(ctx context.Context, domain string) ([]store.Account, error) {
	if domain != "" {
		var err error
		if domain, err = ParseDomain("domain", domain); err != nil {
			return nil, err
		}
	}
	return a.Store.ListAccounts(ctx, domain)
}

// RemoveAccount deletes an account with its mailboxes and messages, and the message bodies
// only it referenced. An account under legal hold is refused (operr.InUse): its hold must be
// lifted first.
func (a *Admin) RemoveAccount(ctx context.Context, addr string) error {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return err
	}
	if err := a.refuseHeld(ctx, addr); err != nil {
		return err
	}
	unreferenced, err := a.Store.RemoveAccount(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return unknownUser("address", addr, err)
	} else if err != nil {
		return err
	}
	errs := []error{a.record(ctx, "user.remove", addr, nil)}
	for _, id := range unreferenced {
		errs = append(errs, a.Blobs.Remove(id))
	}
	return errors.Join(errs...)
}

// Quota is an account's storage quota and usage.
type Quota struct {
	Address string
	// QuotaBytes is the account's own quota in octets, 0 for none, or store.QuotaDefault when
	// it follows the configuration's limits.default_quota_mib.
	QuotaBytes int64
	UsedBytes  int64 // as store.AccountUsage counts: each message once per mailbox it is in
	Messages   int64
}

// Quota returns an account's storage quota and usage (RFC 9208 STORAGE).
func (a *Admin) Quota(ctx context.Context, addr string) (Quota, error) {
	acc, err := a.account(ctx, "address", addr)
	if err != nil {
		return Quota{}, err
	}
	used, messages, err := a.Store.AccountUsage(ctx, acc.ID)
	if err != nil {
		return Quota{}, err
	}
	return Quota{Address: acc.Address, QuotaBytes: acc.QuotaBytes, UsedBytes: used, Messages: messages}, nil
}

// MaxQuotaBytes is the largest quota SetQuota accepts: 2^40 MiB, more than any disk holds.
const MaxQuotaBytes = 1 << 60

// SetQuota sets an account's storage quota in octets: 0 for none, store.QuotaDefault to
// follow the configuration's default again.
func (a *Admin) SetQuota(ctx context.Context, addr string, bytes int64) error {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return err
	}
	if bytes != store.QuotaDefault && (bytes < 0 || bytes > MaxQuotaBytes) {
		return operr.New(operr.Invalid, "quota", fmt.Sprint(bytes), nil,
			"quota %d: want a size in octets from 0 (none) to %d, or the default", bytes, int64(MaxQuotaBytes))
	}
	if err := a.Store.SetQuota(ctx, addr, bytes); errors.Is(err, store.ErrNotFound) {
		return unknownUser("address", addr, err)
	} else if err != nil {
		return err
	}
	return a.record(ctx, "user.quota", addr, audit.Details{"quota_bytes": bytes})
}

// account returns the account at addr, given for field.
func (a *Admin) account(ctx context.Context, field, addr string) (store.Account, error) {
	addr, err := operr.ParseAddress(field, addr)
	if err != nil {
		return store.Account{}, err
	}
	acc, err := a.Store.GetAccount(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return store.Account{}, unknownUser(field, addr, err)
	}
	return acc, err
}

func unknownUser(field, addr string, cause error) *operr.Error {
	return operr.New(operr.NotFound, field, addr, cause, "unknown user %s", addr)
}

// Account returns the account at addr.
func (a *Admin) Account(ctx context.Context, addr string) (store.Account, error) {
	return a.account(ctx, "address", addr)
}
