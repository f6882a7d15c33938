package store

import (
	"context"
	"time"
)

// GreylistStore keeps the state of greylisting (internal/filter) across restarts.
type GreylistStore interface {
	// Greylist records an attempt of triplet at now and reports whether it passes: an earlier
	// attempt of the same triplet, first seen at least delay before now, is remembered. A
	// triplet not seen for expiry starts again. Triplets expired at now are forgotten.
	Greylist(ctx context.Context, triplet string, now time.Time, delay, expiry time.Duration) (pass bool, err error)
}
