package auth

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/store/sqlite"
)

func newAuthenticator(t *testing.T) (*Authenticator, *[]time.Duration, *time.Time) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.AddDomain(ctx, "example.org")
	hash, _ := HashPassword("right password")
	if _, err := st.AddAccount(ctx, "alice@example.org", hash); err != nil {
		t.Fatal(err)
	}
	a := NewAuthenticator(st, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	var slept []time.Duration
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	a.now = func() time.Time { return now }
	return a, &slept, &now
}

var home = netip.MustParseAddr("192.0.2.1")

func TestLogin(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	ctx := context.Background()
	acc, err := a.Login(ctx, "imap", "Alice@Example.org", "right password", home)
	if err != nil || acc.Address != "alice@example.org" {
		t.Fatalf("right password: %v %v", acc, err)
	}
	for _, c := range [][2]string{{"alice@example.org", "wrong"}, {"nobody@example.org", "right password"}, {"not an address", "x"}} {
		if _, err := a.Login(ctx, "imap", c[0], c[1], home); !errors.Is(err, ErrInvalidCredentials) {
			t.Errorf("Login(%q, %q) = %v, want ErrInvalidCredentials", c[0], c[1], err)
		}
	}
	if n := testutil.ToFloat64(a.results.WithLabelValues("imap", "failed")); n != 3 {
		t.Fatalf("failed counter %v, want 3", n)
	}
}

func TestFailuresSlowDownThenRefuse(t *testing.T) {
	a, slept, now := newAuthenticator(t)
	ctx := context.Background()
	for i := 0; i < HardLimit; i++ {
		a.Login(ctx, "pop3", "alice@example.org", "guess", home)
	}
	want := []time.Duration{BaseDelay, 2 * BaseDelay, 4 * BaseDelay}
	for i, d := range want {
		if (*slept)[i] != d {
			t.Fatalf("delays %v, want to start with %v", *slept, want)
		}
	}
	if last := (*slept)[len(*slept)-1]; last != MaxDelay {
		t.Fatalf("last delay %v, want the cap %v", last, MaxDelay)
	}
	// Even the right password is refused now, from this IP and for this account elsewhere.
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", home); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after %d failures: %v, want ErrThrottled", HardLimit, err)
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", netip.MustParseAddr("198.51.100.7")); !errors.Is(err, ErrThrottled) {
		t.Fatalf("account throttle from another IP: %v", err)
	}
	// Another IPv6 address of the same /64 counts as the same source.
	v6 := netip.MustParseAddr("2001:db8::1")
	for i := 0; i < HardLimit; i++ {
		a.Login(ctx, "imap", "x@example.org", "guess", v6)
	}
	if _, err := a.Login(ctx, "imap", "y@example.org", "guess", netip.MustParseAddr("2001:db8::ffff")); !errors.Is(err, ErrThrottled) {
		t.Fatalf("same /64: %v, want ErrThrottled", err)
	}
	*now = now.Add(Window + time.Minute)
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", home); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

// TestConcurrentHashesAreBounded: many simultaneous logins never compute more hashes at once
// than the limit (each costs 64 MiB).
func TestConcurrentHashesAreBounded(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	a.sleep = func(context.Context, time.Duration) error { return nil }
	limit := cap(a.hashing)
	var peak atomic.Int32
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			default:
				n := int32(len(a.hashing))
				if n > peak.Load() {
					peak.Store(n)
				}
				runtime.Gosched()
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 4*limit; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Login(context.Background(), "imap", "alice@example.org", "guess", netip.AddrFrom4([4]byte{10, 0, byte(i / 256), byte(i)}))
		}()
	}
	wg.Wait()
	close(done)
	if p := int(peak.Load()); p > limit || p == 0 {
		t.Fatalf("peak concurrent hashes %d, limit %d", p, limit)
	}
}
