package admin

import (
	"context"
	"errors"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// retentionStore is the store's part that keeps legal holds.
func (a *Admin) retentionStore() (store.RetentionStore, error) {
	rs, ok := a.Store.(store.RetentionStore)
	if !ok {
		return nil, errors.New("the store keeps no legal holds")
	}
	return rs, nil
}

// SetLegalHold puts an account under legal hold (on) or lifts the hold. While it holds, the
// retention job (internal/retention) removes nothing of the account: no message, no login
// history, no mail log event that names it. Holding an account already held keeps the time
// its hold began.
func (a *Admin) SetLegalHold(ctx context.Context, addr string, on bool) error {
	rs, err := a.retentionStore()
	if err != nil {
		return err
	}
	acc, err := a.account(ctx, "address", addr)
	if err != nil {
		return err
	}
	if err := rs.SetLegalHold(ctx, acc.ID, on, time.Now()); errors.Is(err, store.ErrNotFound) {
		return unknownUser("address", acc.Address, err)
	} else if err != nil {
		return err
	}
	return a.record(ctx, "user.legal_hold", acc.Address, audit.Details{"hold": on})
}

// LegalHolds returns the accounts under legal hold: for each account id, when its hold began.
func (a *Admin) LegalHolds(ctx context.Context) (map[int64]time.Time, error) {
	rs, err := a.retentionStore()
	if err != nil {
		return nil, err
	}
	holds, err := rs.LegalHolds(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]time.Time, len(holds))
	for _, h := range holds {
		out[h.AccountID] = h.Since
	}
	return out, nil
}

// refuseHeld refuses (operr.InUse) to delete the account at addr while it is under legal
// hold. An unknown account, or a store without holds, is left to the caller.
func (a *Admin) refuseHeld(ctx context.Context, addr string) error {
	rs, ok := a.Store.(store.RetentionStore)
	if !ok {
		return nil
	}
	acc, err := a.Store.GetAccount(ctx, addr)
	if err != nil {
		return nil
	}
	holds, err := rs.LegalHolds(ctx)
	if err != nil {
		return err
	}
	for _, h := range holds {
		if h.AccountID == acc.ID {
			return operr.New(operr.InUse, "address", addr, nil,
				"%s is under legal hold; lift it first (posthorn user hold %s off)", addr, addr)
		}
	}
	return nil
}
