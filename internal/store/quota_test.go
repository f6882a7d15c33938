package store_test

import (
	"context"
	"testing"

	"posthorn/internal/store"
)

// usageStore has one account's usage, and counts its reads.
type usageStore struct {
	used  int64
	reads int
}

func (u *usageStore) AccountUsage(context.Context, int64) (int64, int64, error) {
	u.reads++
	return u.used, 1, nil
}

func TestGetQuota(t *testing.T) {
	for _, c := range []struct {
		name               string
		quota, def, used   int64
		limit              int64
		exceeded0, exceed5 bool // Exceeded(0), Exceeded(5)
	}{
		{"none", 0, 100, 50, 0, false, false},
		{"default none", store.QuotaDefault, 0, 50, 0, false, false},
		{"default", store.QuotaDefault, 100, 50, 100, false, false},
		{"own over default", 60, 100, 58, 60, false, true},
		{"room for exactly 5", 100, 0, 95, 100, false, false},
		{"full", 100, 0, 100, 100, true, true},
		{"over", 100, 0, 150, 100, true, true},
	} {
		u := &usageStore{used: c.used}
		q, err := store.GetQuota(context.Background(), u, store.Account{ID: 1, QuotaBytes: c.quota}, c.def)
		if err != nil {
			t.Fatal(err)
		}
		if q.Limit != c.limit || q.Exceeded(0) != c.exceeded0 || q.Exceeded(5) != c.exceed5 {
			t.Errorf("%s: %+v, Exceeded(0) %v, Exceeded(5) %v; want limit %d, %v, %v", c.name, q,
				q.Exceeded(0), q.Exceeded(5), c.limit, c.exceeded0, c.exceed5)
		}
		if (c.limit == 0) != (u.reads == 0) {
			t.Errorf("%s: %d usage reads with limit %d", c.name, u.reads, c.limit)
		}
	}
}
