package smtpserver

import (
	"context"
	"errors"
	"time"

	"github.com/emersion/go-smtp"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// owns reports whether the authenticated account may use addr as envelope sender or From:
// its own address (with or without a "+tag", RFC 5233), an alias that resolves to it (a
// domain's catch-all does not count: it would hand every address of the domain to its
// target), or a send-as grant, exact or "@domain".
func (s *submissionSession) owns(ctx context.Context, addr address.Address) (bool, error) {
	if addr.String() == s.account.Address {
		return true, nil
	}
	if base, tagged := addr.Base(); tagged && base.String() == s.account.Address {
		return true, nil
	}
	res, err := store.Resolve(ctx, s.server.Store, addr)
	switch {
	case err == nil && res.Via != "catch-all":
		for _, acc := range res.Accounts {
			if acc.ID == s.account.ID {
				return true, nil
			}
		}
	case err == nil, errors.Is(err, store.ErrUnknownDomain), errors.Is(err, store.ErrNoSuchUser):
	default:
		return false, err
	}
	grants, err := s.sub.Store.ListSendAs(ctx, s.account.ID)
	if err != nil {
		return false, err
	}
	for _, g := range grants {
		if g == addr.String() || g == "@"+addr.Domain {
			return true, nil
		}
	}
	return false, nil
}

// checkLimits returns errSendLimit when n more recipients would take the account past its
// hourly or daily sending limit.
func (s *submissionSession) checkLimits(ctx context.Context, n int) *smtp.SMTPError {
	limits, err := s.sub.Store.GetSendLimits(ctx, s.account.ID)
	if err != nil {
		s.logger.Error("read send limits", "err", err)
		return errTempLookup
	}
	now := s.sub.now()
	for _, l := range []struct {
		limit, def int64
		period     time.Duration
	}{
		{limits.PerHour, s.sub.PerHour, time.Hour},
		{limits.PerDay, s.sub.PerDay, 24 * time.Hour},
	} {
		limit := l.limit
		if limit == store.LimitDefault {
			limit = l.def
		}
		if limit <= 0 {
			continue
		}
		sent, err := s.sub.Store.SentSince(ctx, s.account.ID, now.Add(-l.period))
		if err != nil {
			s.logger.Error("read sent count", "err", err)
			return errTempLookup
		}
		if sent+int64(n) > limit {
			s.logger.Info("sending limit reached", "limit", limit, "period", l.period, "sent", sent)
			return errSendLimit
		}
	}
	return nil
}
