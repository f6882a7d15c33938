package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

func TestIsTemporary(t *testing.T) {
	for _, tc := range []struct {
		err       error
		temporary bool
	}{
		{nil, false},
		{ErrNotFound, false},
		{fmt.Errorf("get account a@example.org: %w", ErrNotFound), false},
		{fmt.Errorf("add alias: %w", ErrExists), false},
		{ErrInUse, false},
		{ErrUnknownDomain, false},
		{ErrNoSuchUser, false},
		{ErrConflict, false},
		{fmt.Errorf("search: %w", ErrNotIndexable), false},
		{errors.New("write unix ->/run/postgresql/.s.PGSQL.5432: broken pipe"), true},
		{fmt.Errorf("get domain: %w", errors.New("disk I/O error")), true},
		{context.DeadlineExceeded, true},
	} {
		if got := IsTemporary(tc.err); got != tc.temporary {
			t.Errorf("IsTemporary(%v) = %t, want %t", tc.err, got, tc.temporary)
		}
		if tc.err != nil && IsDefinite(tc.err) == tc.temporary {
			t.Errorf("IsDefinite(%v) = %t, want %t", tc.err, !tc.temporary, !tc.temporary)
		}
	}
}
