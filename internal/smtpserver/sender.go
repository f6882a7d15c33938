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

// checkLimits returns errSendLimit when n recipients in all would take the account past its
// hourly or daily sending limit. The limits and counts are read at the transaction's first
// RCPT and kept until its end, so a message to many recipients costs three lookups.
func (s *submissionSession) checkLimits(ctx context.Context, n int) *smtp.SMTPError {
	if s.room == nil {
		room, err := s.sendingRoom(ctx)
		if err != nil {
			s.logger.Error("read sending limits", "err", err)
			return errTempLookup
		}
		s.room = &room
	}
	if *s.room >= 0 && int64(n) > *s.room {
		s.logger.Info("sending limit reached", "room", *s.room)
		return errSendLimit
	}
	return nil
}

// sendingRoom returns how many more recipients the account may send to now, or -1 for no
// limit: the smaller room of the hourly and the daily limit.
func (s *submissionSession) sendingRoom(ctx context.Context) (int64, error) {
	limits, err := s.sub.Store.GetSendLimits(ctx, s.account.ID)
	if err != nil {
		return 0, err
	}
	recorder := s.sub.sent(s.server.Logger)
	now := s.sub.now()
	room := int64(-1)
	err = recorder.consistent(func() error {
		unwritten := recorder.unwritten(s.account.ID)
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
				return err
			}
			if r := max(limit-sent-unwritten, 0); room < 0 || r < room {
				room = r
			}
		}
		return nil
	})
	return room, err
}
