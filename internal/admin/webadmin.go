package admin

import (
	"context"
	"errors"
	"fmt"

	"posthorn/internal/audit"
	"posthorn/internal/store"
)

// webStore is the store's web UI part (sessions, the admin flag).
func (a *Admin) webStore() (store.WebStore, error) {
	ws, ok := a.Store.(store.WebStore)
	if !ok {
		return nil, errors.New("the store keeps no web UI settings")
	}
	return ws, nil
}

// SetWebAdmin grants (on) or revokes an account's admin flag: whether it may use the web UI's
// admin pages (/admin/). Revoking ends the account's web sessions, so the pages it had open
// close at their next request.
func (a *Admin) SetWebAdmin(ctx context.Context, addr string, on bool) error {
	ws, err := a.webStore()
	if err != nil {
		return err
	}
	acc, err := a.account(ctx, "address", addr)
	if err != nil {
		return err
	}
	if err := ws.SetWebAdmin(ctx, acc.ID, on); err != nil {
		return err
	}
	if !on {
		if _, err := ws.DeleteWebSessions(ctx, acc.ID, nil); err != nil {
			return fmt.Errorf("end web sessions of %s: %w", acc.Address, err)
		}
	}
	return a.record(ctx, "user.web_admin", acc.Address, audit.Details{"admin": on})
}

// WebAdmins returns the ids of the accounts with the admin flag, as a set.
func (a *Admin) WebAdmins(ctx context.Context) (map[int64]bool, error) {
	ws, err := a.webStore()
	if err != nil {
		return nil, err
	}
	ids, err := ws.WebAdmins(ctx)
	if err != nil {
		return nil, err
	}
	set := make(map[int64]bool, len(ids))
	for _, id := range ids {
		set[id] = true
	}
	return set, nil
}
