package admin

import (
	"context"
	"errors"
	"fmt"

	"posthorn/internal/address"
	"posthorn/internal/audit"
	"posthorn/internal/credentials"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// errNoSubmissionStore is returned when the store keeps no app passwords or sending settings.
var errNoSubmissionStore = errors.New("this store keeps no app passwords, send-as or DKIM keys")

// sendingAccount returns the account at addr and the store of its sending settings: app
// passwords, send-as addresses and limits.
func (a *Admin) sendingAccount(ctx context.Context, addr string) (store.SubmissionStore, store.Account, error) {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return nil, store.Account{}, err
	}
	ss, ok := a.Store.(store.SubmissionStore)
	if !ok {
		return nil, store.Account{}, &operr.Error{Code: operr.Unsupported, Message: errNoSubmissionStore.Error(), Err: errNoSubmissionStore}
	}
	acc, err := a.Store.GetAccount(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Account{}, unknownUser("address", addr, err)
	}
	return ss, acc, err
}

// AddAppPassword generates an app password called name for an account (credentials.AddAppPassword)
// and returns it; it is never shown again.
func (a *Admin) AddAppPassword(ctx context.Context, addr, name string) (string, error) {
	_, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return "", err
	}
	if name == "" {
		return "", operr.New(operr.Invalid, "name", name, nil, "app password name must not be empty")
	}
	password, err := credentials.AddAppPassword(ctx, a.Credentials, acc.Address, name)
	if errors.Is(err, store.ErrExists) {
		return "", operr.New(operr.Exists, "name", name, err, "%s already has an app password called %q", acc.Address, name)
	} else if err != nil {
		return "", err
	}
	return password, a.record(ctx, "app_password.add", acc.Address, audit.Details{"name": name})
}

// AppPasswords returns an account's app passwords by name (their hashes included: show only
// the names and dates).
func (a *Admin) AppPasswords(ctx context.Context, addr string) ([]store.AppPassword, error) {
	ss, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return nil, err
	}
	return ss.ListAppPasswords(ctx, acc.ID)
}

// RemoveAppPassword deletes an app password: it stops working at once.
func (a *Admin) RemoveAppPassword(ctx context.Context, addr, name string) error {
	ss, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return err
	}
	if err := ss.RemoveAppPassword(ctx, acc.ID, name); errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "name", name, err, "%s has no app password called %q", acc.Address, name)
	} else if err != nil {
		return err
	}
	return a.record(ctx, "app_password.remove", acc.Address, audit.Details{"name": name})
}

// ParseSendAs normalises a send-as address: "local@domain", or "@domain" for every address of
// a domain.
func ParseSendAs(s string) (string, error) {
	if len(s) > 1 && s[0] == '@' {
		d, err := address.ParseDomain(s[1:])
		if err != nil {
			return "", operr.New(operr.Invalid, "send_as", s, err, "send-as %q: %v", s, err)
		}
		return "@" + d, nil
	}
	a, err := address.Parse(s)
	if err != nil {
		return "", operr.New(operr.Invalid, "send_as", s, err, "send-as %q: %v", s, err)
	}
	return a.String(), nil
}

// AddSendAs lets an account send as sendAs (ParseSendAs) besides its own address and the
// aliases that lead to it.
func (a *Admin) AddSendAs(ctx context.Context, addr, sendAs string) error {
	return a.changeSendAs(ctx, "send_as.add", addr, sendAs, store.SubmissionStore.AddSendAs)
}

// RemoveSendAs takes a send-as address away.
func (a *Admin) RemoveSendAs(ctx context.Context, addr, sendAs string) error {
	return a.changeSendAs(ctx, "send_as.remove", addr, sendAs, store.SubmissionStore.RemoveSendAs)
}

func (a *Admin) changeSendAs(ctx context.Context, action, addr, sendAs string,
	change func(store.SubmissionStore, context.Context, int64, string) error) error {
	sendAs, err := ParseSendAs(sendAs)
	if err != nil {
		return err
	}
	ss, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return err
	}
	switch err := change(ss, ctx, acc.ID, sendAs); {
	case errors.Is(err, store.ErrExists):
		return operr.New(operr.Exists, "send_as", sendAs, err, "%s may already send as %s", acc.Address, sendAs)
	case errors.Is(err, store.ErrNotFound):
		return operr.New(operr.NotFound, "send_as", sendAs, err, "%s has no send-as %s", acc.Address, sendAs)
	case err != nil:
		return err
	}
	return a.record(ctx, action, acc.Address, audit.Details{"send_as": sendAs})
}

// SendAs returns an account's send-as addresses, sorted.
func (a *Admin) SendAs(ctx context.Context, addr string) ([]string, error) {
	ss, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return nil, err
	}
	return ss.ListSendAs(ctx, acc.ID)
}

// SendLimits returns an account's sending limits in recipients per hour and per day;
// store.LimitDefault where it follows the configuration's limits.send_per_*.
func (a *Admin) SendLimits(ctx context.Context, addr string) (store.SendLimits, error) {
	ss, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return store.SendLimits{}, err
	}
	return ss.GetSendLimits(ctx, acc.ID)
}

// SetSendLimits sets an account's sending limits (0: none, store.LimitDefault: the default).
func (a *Admin) SetSendLimits(ctx context.Context, addr string, limits store.SendLimits) error {
	for _, l := range []struct {
		field string
		n     int64
	}{{"per_hour", limits.PerHour}, {"per_day", limits.PerDay}} {
		if l.n < 0 && l.n != store.LimitDefault {
			return operr.New(operr.Invalid, l.field, fmt.Sprint(l.n), nil,
				"limit %d: want a number of recipients, 0 for none, or the default", l.n)
		}
	}
	ss, acc, err := a.sendingAccount(ctx, addr)
	if err != nil {
		return err
	}
	if err := ss.SetSendLimits(ctx, acc.ID, limits); err != nil {
		return err
	}
	return a.record(ctx, "user.send_limits", acc.Address, audit.Details{"per_hour": limits.PerHour, "per_day": limits.PerDay})
}
