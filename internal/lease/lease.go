// Package lease runs a singleton job (the retention schedule, scheduled backups, campaign
// schedules) on one node at a time of the nodes sharing a store, under a named lease of
// store.Leases.
//
// Runner.Run tries to take the lease every third of its time to live (TTL) until it holds it,
// then runs the job with a context of its own and renews the lease every third of the TTL.
// The job's context ends when the lease is lost: at once when a renewal finds it taken or
// gone, and half a TTL after the last successful renewal when renewals fail (the store cannot
// be reached): so a node cut off from the store stops its job well before the lease expires
// and another node may take it. The job is waited for, and the Runner tries again to take the
// lease. A node that dies stops renewing; another takes over once the TTL has passed, by the
// store's clock. When the job returns by itself, or Run's context ends, the lease is released.
//
// On one node alone (SQLite) the lease is taken at the first try, and the job runs as it did
// without one. A lease left by a process that crashed delays the job's start by at most a TTL,
// unless the process that starts again holds it under the same Holder (internal/app names the
// node by its host and data directory), which takes it back at once.
package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"time"

	"posthorn/internal/store"
)

// DefaultTTL is a Runner's default time to live of its lease.
const DefaultTTL = time.Minute

// Runner runs a job only while it holds the lease Name in Leases.
type Runner struct {
	Leases store.Leases
	Name   string // the lease's name, one per job: "retention"
	// Holder names this node in the lease; it must differ between nodes. Default: the host
	// name and a random suffix, new for each Runner.
	Holder string
	// TTL is how long the lease outlives a node that stops renewing it. Default: DefaultTTL.
	TTL    time.Duration
	Logger *slog.Logger
}

// Run runs job under the lease until job returns by itself (Run then returns nil) or ctx
// ends (Run returns ctx's error), every time the lease was lost running job again once it is
// taken again. Only errors of ctx are returned: the store's are logged and retried.
func (r *Runner) Run(ctx context.Context, job func(ctx context.Context)) error {
	ttl := r.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	holder := r.Holder
	if holder == "" {
		holder = defaultHolder()
	}
	log := r.Logger.With("lease", r.Name, "holder", holder)
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	for {
		ok, err := r.Leases.TryAcquireLease(ctx, r.Name, holder, ttl)
		if err != nil && ctx.Err() == nil {
			log.Error("acquire lease", "err", err)
		}
		if ok {
			log.Info("lease acquired: job running on this node")
			finished := r.hold(ctx, log, holder, ttl, tick.C, job)
			if finished || ctx.Err() != nil {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				if err := r.Leases.ReleaseLease(rctx, r.Name, holder); err != nil {
					log.Error("release lease", "err", err)
				}
				cancel()
				if finished {
					return nil
				}
				return ctx.Err()
			}
			log.Warn("lease lost: job stopped on this node")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// hold runs job while the lease is held, renewing it at every tick. It returns true when job
// returned by itself, false when the lease was lost or ctx ended (job has returned then too).
func (r *Runner) hold(ctx context.Context, log *slog.Logger, holder string, ttl time.Duration,
	tick <-chan time.Time, job func(ctx context.Context)) bool {
	jobCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		job(jobCtx)
	}()
	// lost fires half a TTL after the last successful renewal.
	lost := time.NewTimer(ttl / 2)
	defer lost.Stop()
	for {
		select {
		case <-done:
			return ctx.Err() == nil && jobCtx.Err() == nil
		case <-ctx.Done():
			stop()
			<-done
			return false
		case <-lost.C:
			log.Error("lease not renewed for half its time to live")
			stop()
			<-done
			return false
		case <-tick:
			rctx, cancel := context.WithTimeout(ctx, ttl/3)
			ok, err := r.Leases.RenewLease(rctx, r.Name, holder, ttl)
			cancel()
			switch {
			case err != nil:
				if ctx.Err() == nil {
					log.Error("renew lease", "err", err)
				}
			case !ok:
				stop()
				<-done
				return false
			default:
				lost.Reset(ttl / 2)
			}
		}
	}
}

func defaultHolder() string {
	host, _ := os.Hostname()
	var b [8]byte
	_, _ = rand.Read(b[:])
	return host + "/" + hex.EncodeToString(b[:])
}
