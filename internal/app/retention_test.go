package app

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/config"
	"posthorn/internal/store"
)

// TestRetentionJobStartsWithARule: the server schedules the retention job when [retention]
// sets a period, and not without one; Shutdown stops it.
func TestRetentionJobStartsWithARule(t *testing.T) {
	for _, junkDays := range []int{0, 30} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Listen = config.Listen{HTTP: "127.0.0.1:0"}
		cfg.Retention.JunkDays = junkDays
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		s, _, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if started := s.stopRetention != nil; started != (junkDays > 0) {
			t.Errorf("junk_days = %d: job started %v", junkDays, started)
		}
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	}
}

// retentionConfig is the configuration of a server with a retention rule in a new data directory.
func retentionConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen = config.Listen{HTTP: "127.0.0.1:0"}
	cfg.Retention.JunkDays = 30
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startHoldingRetention starts a server on cfg, stopped when the test ends, and waits until its
// retention schedule has taken its lease.
func startHoldingRetention(t *testing.T, cfg config.Config) *Server {
	t.Helper()
	var logs lockedBuffer
	s, _, err := Start(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "lease acquired") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not take the retention lease; log:\n%s", logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

// TestRetentionJobHoldsItsLease: the retention schedule runs under the lease "retention", so
// another node sharing the store cannot take it while this server runs.
func TestRetentionJobHoldsItsLease(t *testing.T) {
	s := startHoldingRetention(t, retentionConfig(t))
	leases, ok := s.data.Store.(store.Leases)
	if !ok {
		t.Fatalf("the store %T keeps no leases", s.data.Store)
	}
	if taken, err := leases.TryAcquireLease(t.Context(), retentionLease, "another node", time.Minute); err != nil || taken {
		t.Errorf("another node takes the retention lease while the server runs: %v, %v", taken, err)
	}
}

// TestRetentionLeaseAfterCrash: a server that starts again on the same data directory takes
// back the retention lease its crashed predecessor left, at once.
func TestRetentionLeaseAfterCrash(t *testing.T) {
	cfg := retentionConfig(t)
	d, err := OpenData(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	leases := d.Store.(store.Leases)
	if ok, err := leases.TryAcquireLease(t.Context(), retentionLease, nodeName(cfg), time.Hour); err != nil || !ok {
		t.Fatalf("the crashed server's lease: %v, %v", ok, err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	startHoldingRetention(t, cfg)
}

// lockedBuffer is a log's destination that a test reads while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
