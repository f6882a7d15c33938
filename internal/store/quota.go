package store

import (
	"context"
	"fmt"
)

// QuotaUsage is an account's storage quota (RFC 9208 §5.1 STORAGE) and how much of it the
// account uses, in octets.
type QuotaUsage struct {
	Limit int64 // 0: no quota, and Used was not read
	Used  int64 // as AccountUsage counts: each message once per mailbox it is in
}

// Exceeded reports whether storing add more octets is refused: the account already uses all
// its quota, or would go over it with add more. An account without quota never exceeds it.
func (q QuotaUsage) Exceeded(add int64) bool {
	return q.Limit > 0 && (q.Used >= q.Limit || q.Used+add > q.Limit)
}

// UsageReader is what GetQuota reads.
type UsageReader interface {
	AccountUsage(ctx context.Context, accountID int64) (bytes, messages int64, err error)
}

// GetQuota returns an account's storage quota, defaultBytes applying to an account without its
// own (Account.Quota), and, when there is one, the account's usage. acc should be fresh: the
// admin may change the quota at any time (posthorn user quota). Checks are made before a
// commit, not in it, so deliveries that run at once may together go a little over.
func GetQuota(ctx context.Context, st UsageReader, acc Account, defaultBytes int64) (QuotaUsage, error) {
	q := QuotaUsage{Limit: acc.Quota(defaultBytes)}
	if q.Limit == 0 {
		return q, nil
	}
	var err error
	if q.Used, _, err = st.AccountUsage(ctx, acc.ID); err != nil {
		return QuotaUsage{}, fmt.Errorf("quota of %s: %w", acc.Address, err)
	}
	return q, nil
}
