package smtpserver

import (
	"context"
	"time"

	"github.com/emersion/go-smtp"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// owns reports whether the authenticated account may use addr as envelope sender or From
// (store.MaySendAs).
func (s *submissionSession) owns(ctx context.Context, addr address.Address) (bool, error) {
	return store.MaySendAs(ctx, s.server.Store, s.sub.Store, s.account, addr)
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
