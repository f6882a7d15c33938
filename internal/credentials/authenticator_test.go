package credentials

import (
	"context"
	"errors"
	"fmt"
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

	"posthorn/internal/auth"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

func newAuthenticator(t *testing.T) (*Authenticator, *[]time.Duration, *time.Time) {
	t.Helper()
	a, slept, now, _ := newAuthenticatorAt(t)
	return a, slept, now
}

// newAuthenticatorAt also returns the database's path, for a second process's view of it.
func newAuthenticatorAt(t *testing.T) (*Authenticator, *[]time.Duration, *time.Time, string) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db")
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	st.AddDomain(ctx, "example.org")
	hash, _ := auth.HashPassword("right password")
	if _, err := st.AddAccount(ctx, "alice@example.org", hash); err != nil {
		t.Fatal(err)
	}
	a := NewAuthenticator(st, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	var slept []time.Duration
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	a.now = func() time.Time { return now }
	return a, &slept, &now, path
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
		if _, err := a.Login(ctx, "imap", c[0], c[1], home); !errors.Is(err, auth.ErrInvalidCredentials) {
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
	// Even the right password is refused now from this IP.
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", home); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after %d failures: %v, want ErrThrottled", HardLimit, err)
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

// TestParallelGuessesCountBeforeHashing: 200 wrong logins from one address at the same moment
// are not all evaluated: each takes its place in the count before its hash, so no more than
// HardLimit are hashed and the rest are refused.
func TestParallelGuessesCountBeforeHashing(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	a.sleep = func(context.Context, time.Duration) error { return nil }
	const guesses = 200
	errs := make([]error, guesses)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = a.Login(context.Background(), "imap", "alice@example.org", fmt.Sprintf("guess %d", i), home)
		}()
	}
	close(start)
	wg.Wait()
	var invalid, throttled int
	for _, err := range errs {
		switch {
		case errors.Is(err, auth.ErrInvalidCredentials):
			invalid++
		case errors.Is(err, ErrThrottled):
			throttled++
		default:
			t.Fatalf("a guess returned %v", err)
		}
	}
	hashed := int(testutil.ToFloat64(a.hashes))
	t.Logf("%d concurrent wrong logins from one address: %d evaluated (%d hashed), %d throttled", guesses, invalid, hashed, throttled)
	if hashed > HardLimit || invalid > HardLimit || invalid+throttled != guesses {
		t.Fatalf("%d evaluated, %d hashed, %d throttled: want at most %d evaluated", invalid, hashed, throttled, HardLimit)
	}
}

// TestStrangersDoNotLockOutTheOwner: failures from one source throttle that source; a source
// that has logged in to the account before keeps working at once, even from another process's
// Authenticator (the sources are in the store); a fresh source waits the account's delay and is
// refused only once AccountHardLimit failures came from unknown sources.
func TestStrangersDoNotLockOutTheOwner(t *testing.T) {
	a, slept, _ := newAuthenticator(t)
	ctx := context.Background()
	office := netip.MustParseAddr("2001:db8:1::5")
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", office); err != nil {
		t.Fatal(err)
	}
	attacker := netip.MustParseAddr("203.0.113.9")
	for range HardLimit + 5 {
		a.Login(ctx, "imap", "alice@example.org", "guess", attacker)
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", attacker); !errors.Is(err, ErrThrottled) {
		t.Fatalf("the guessing source: %v, want ErrThrottled", err)
	}
	// Another address of the office's /64, seen by a new Authenticator over the same store.
	b := NewAuthenticator(a.store, a.logger, nil)
	b.sleep, b.now = a.sleep, a.now
	for _, authn := range []*Authenticator{a, b} {
		*slept = nil
		if _, err := authn.Login(ctx, "imap", "alice@example.org", "right password", netip.MustParseAddr("2001:db8:1::77")); err != nil || len(*slept) != 0 {
			t.Fatalf("known source after %d guesses from a stranger: %v, waited %v", HardLimit, err, *slept)
		}
	}
	// A fresh source gets in, after the delay the account's failures from strangers impose.
	*slept = nil
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", netip.MustParseAddr("198.51.100.20")); err != nil || len(*slept) != 1 || (*slept)[0] != MaxDelay {
		t.Fatalf("fresh source: %v, waited %v, want in after %v", err, *slept, MaxDelay)
	}
	// Strangers from more sources reach the account's limit: unknown sources are refused, known
	// ones are not.
	for i := 0; i < AccountHardLimit; i++ {
		a.Login(ctx, "imap", "alice@example.org", "guess", netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i/(HardLimit-1))}))
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", netip.MustParseAddr("192.0.2.200")); !errors.Is(err, ErrThrottled) {
		t.Fatalf("fresh source after %d failures from strangers: %v, want ErrThrottled", AccountHardLimit, err)
	}
	for _, known := range []string{"2001:db8:1::5", "198.51.100.20"} {
		if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", netip.MustParseAddr(known)); err != nil {
			t.Fatalf("known source %s: %v", known, err)
		}
	}
	// A known source's own failures still throttle it.
	for range HardLimit {
		a.Login(ctx, "imap", "alice@example.org", "guess", office)
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", "right password", office); !errors.Is(err, ErrThrottled) {
		t.Fatalf("known source after its own %d failures: %v, want ErrThrottled", HardLimit, err)
	}
	acc, _ := a.store.GetAccount(ctx, "alice@example.org")
	sources, err := a.store.(store.LoginStore).LoginSources(ctx, acc.ID)
	if err != nil || len(sources) != 2 {
		t.Fatalf("recorded sources %v %v, want the office's /64 and the fresh source", sources, err)
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

// TestHashMemoryIsReturned: once a burst of logins is over, the heap gives the hashes' work
// areas (64 MiB each) back to the system instead of keeping them for the next burst.
func TestHashMemoryIsReturned(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	a.sleep = func(context.Context, time.Duration) error { return nil }
	var wg sync.WaitGroup
	for i := range 3 * cap(a.hashing) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.Login(context.Background(), "imap", "alice@example.org", "guess", netip.AddrFrom4([4]byte{10, 1, 0, byte(i)}))
		}()
	}
	wg.Wait()
	const limit = 48 << 20 // less than one work area
	var m runtime.MemStats
	for deadline := time.Now().Add(30 * time.Second); ; {
		runtime.ReadMemStats(&m)
		if m.HeapSys-m.HeapReleased < limit {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("heap still holds %d MiB of memory 30 s after the logins, want under %d MiB", (m.HeapSys-m.HeapReleased)>>20, limit>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
