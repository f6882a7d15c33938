package pop3server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"posthorn/internal/store"
)

// DefaultMaildropLeaseTTL is how long a shared maildrop lock outlives a node that stops
// renewing it (one that died): Server.MaildropLeaseTTL's default.
const DefaultMaildropLeaseTTL = time.Minute

// maildropLease is a session's hold on its account's maildrop in the shared store
// (Server.Leases): the lease store.MaildropLease(account) under a token of the session's own,
// renewed every third of its time to live until the session releases it.
type maildropLease struct {
	leases store.Leases
	name   string
	holder string
	stop   chan struct{}
	done   sync.WaitGroup
}

func (s *Server) maildropLeaseTTL() time.Duration {
	if s.MaildropLeaseTTL > 0 {
		return s.MaildropLeaseTTL
	}
	return DefaultMaildropLeaseTTL
}

// acquireLease takes the account's shared maildrop lock for the session; false when a
// session of any node holds it. lost is called, once, if a renewal finds the lease gone (it
// expired, and another may hold it now) or fails: the session must end.
func (s *Server) acquireLease(ctx context.Context, accountID int64, lost func()) (*maildropLease, bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	l := &maildropLease{leases: s.Leases, name: store.MaildropLease(accountID), holder: hex.EncodeToString(b[:]),
		stop: make(chan struct{})}
	ttl := s.maildropLeaseTTL()
	ok, err := s.Leases.TryAcquireLease(ctx, l.name, l.holder, ttl)
	if err != nil || !ok {
		return nil, false, err
	}
	l.done.Add(1)
	go func() {
		defer l.done.Done()
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-l.stop:
				return
			case <-t.C:
			}
			rctx, cancel := context.WithTimeout(context.Background(), ttl/3)
			ok, err := l.leases.RenewLease(rctx, l.name, l.holder, ttl)
			cancel()
			if err != nil || !ok {
				s.Logger.Warn("maildrop lock lost", "lease", l.name, "err", err)
				lost()
				return
			}
		}
	}()
	return l, true, nil
}

// release stops the renewals and frees the lease.
func (l *maildropLease) release(s *Server) {
	close(l.stop)
	l.done.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := l.leases.ReleaseLease(ctx, l.name, l.holder); err != nil {
		s.Logger.Error("release maildrop lock", "lease", l.name, "err", err)
	}
}
