package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/bodystore"
)

// Check verifies the store's invariants (UIDs, MODSEQs, reference counts, the database's own
// integrity) and that every referenced message body exists, and finds bodies nothing
// references. It returns one line per problem; none means the data directory is consistent.
func (a *Admin) Check(ctx context.Context) ([]string, error) {
	problems, err := a.Store.Check(ctx)
	if err != nil {
		return nil, err
	}
	err = a.Store.BlobIDs(ctx, func(id string) error {
		f, err := a.Blobs.Open(id)
		if errors.Is(err, bodystore.ErrNotFound) {
			problems = append(problems, fmt.Sprintf("blob %s is referenced but missing", id))
			return nil
		}
		if err != nil {
			return err
		}
		return f.Close()
	})
	if err != nil {
		return nil, err
	}
	// Empty files are the running server's pool of files created ahead of deliveries.
	err = a.Blobs.Walk(time.Time{}, func(id string, size int64) error {
		if size == 0 {
			return nil
		}
		used, err := a.Store.HasBlob(ctx, id)
		if err == nil && !used {
			problems = append(problems, fmt.Sprintf("blob %s is not referenced (orphan)", id))
		}
		return err
	})
	return problems, err
}

// RemoveOrphans deletes the message bodies, written from since's day on (zero: all), that no
// row references, and counts them: bodies written before a crash whose commit never happened.
// Only call it while nothing delivers into the data directory (at start, or with the server
// stopped), since a delivery in flight has written its body but not yet committed its rows.
func (a *Admin) RemoveOrphans(ctx context.Context, since time.Time) (int, error) {
	removed := 0
	err := a.Blobs.Walk(since, func(id string, _ int64) error {
		used, err := a.Store.HasBlob(ctx, id)
		if err != nil || used {
			return err
		}
		removed++
		return a.Blobs.Remove(id)
	})
	return removed, err
}
