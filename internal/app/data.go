package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/auth"
	"posthorn/internal/blob"
	"posthorn/internal/credentials"
)

// sweepOrphans deletes the blobs of the last two days that no row references: bodies written
// before a crash whose commit never happened. At start nothing is in flight, so every
// unreferenced blob is such an orphan. `posthorn check --repair` sweeps all days.
func sweepOrphans(ctx context.Context, d *Data, logger *slog.Logger) error {
	removed, err := RemoveOrphans(ctx, d, time.Now().AddDate(0, 0, -1))
	if err != nil {
		return fmt.Errorf("sweep orphan message bodies: %w", err)
	}
	if removed > 0 {
		logger.Info("removed message bodies of uncommitted deliveries", "count", removed)
	}
	return nil
}

// RemoveOrphans deletes unreferenced blobs from since's day on (zero: all) and counts them.
// Only call it while no server writes to the data directory.
func RemoveOrphans(ctx context.Context, d *Data, since time.Time) (int, error) {
	removed := 0
	err := d.Blobs.Walk(since, func(id string, _ int64) error {
		used, err := d.Store.HasBlob(ctx, id)
		if err != nil || used {
			return err
		}
		removed++
		return d.Blobs.Remove(id)
	})
	return removed, err
}

// Check verifies the store's invariants and that every referenced blob exists, and lists
// unreferenced blobs. It returns one line per problem.
func Check(ctx context.Context, d *Data) ([]string, error) {
	problems, err := d.Store.Check(ctx)
	if err != nil {
		return nil, err
	}
	err = d.Store.BlobIDs(ctx, func(id string) error {
		f, err := d.Blobs.Open(id)
		if errors.Is(err, blob.ErrNotFound) {
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
	err = d.Blobs.Walk(time.Time{}, func(id string, size int64) error {
		if size == 0 {
			return nil
		}
		used, err := d.Store.HasBlob(ctx, id)
		if err == nil && !used {
			problems = append(problems, fmt.Sprintf("blob %s is not referenced (orphan)", id))
		}
		return err
	})
	return problems, err
}

// Bootstrap prepares an empty data directory for trying posthorn out: the domain and an account
// postmaster@domain with a random password, which it returns. When any domain exists already it
// does nothing and returns "".
func Bootstrap(ctx context.Context, d *Data, domain string) (string, error) {
	domains, err := d.Store.ListDomains(ctx)
	if err != nil || len(domains) > 0 {
		return "", err
	}
	name, err := address.ParseDomain(domain)
	if err != nil {
		return "", fmt.Errorf("bootstrap domain %q: %w", domain, err)
	}
	if _, err := AddDomain(ctx, d, name); err != nil {
		return "", err
	}
	password, err := auth.RandomPassword()
	if err != nil {
		return "", err
	}
	if _, err := credentials.AddAccount(ctx, d.Credentials, "postmaster@"+name, password); err != nil {
		return "", err
	}
	return password, nil
}

// RemoveAccount deletes an account and the bodies only it referenced.
func RemoveAccount(ctx context.Context, d *Data, addr string) error {
	unreferenced, err := d.Store.RemoveAccount(ctx, addr)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range unreferenced {
		errs = append(errs, d.Blobs.Remove(id))
	}
	return errors.Join(errs...)
}
