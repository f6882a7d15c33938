package credentials

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"posthorn/internal/auth"
	"posthorn/internal/store/sqlite"
)

// BenchmarkWrongLogin times a wrong password for an existing account, an account with two app
// passwords, an unknown user and an unknown domain, and reports each one's median (ms):
// they must be within a few percent of each other, so timing tells nothing of what an account
// has. Throttling is reset before each attempt (it would otherwise refuse them). One
// iteration is one wrong login of each kind.
func BenchmarkWrongLogin(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.AddDomain(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	for _, user := range []string{"alice@example.org", "bob@example.org"} {
		if _, err := AddAccount(ctx, st, user, "right password"); err != nil {
			b.Fatal(err)
		}
	}
	for _, name := range []string{"phone", "laptop"} {
		if _, err := AddAppPassword(ctx, st, "bob@example.org", name); err != nil {
			b.Fatal(err)
		}
	}
	a := NewAuthenticator(st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	a.SetSleep(func(context.Context, time.Duration) error { return nil })
	from := netip.MustParseAddr("192.0.2.1")
	cases := []struct{ name, user string }{
		{"existing", "alice@example.org"},
		{"two-app-passwords", "bob@example.org"},
		{"unknown-user", "nobody@example.org"},
		{"unknown-domain", "alice@unknown.example"},
	}
	// The cases take turns, in an order that rotates, so that a change of the machine's load
	// during the run weighs on all of them alike.
	times := make([][]time.Duration, len(cases))
	round := 0
	for b.Loop() {
		for k := range cases {
			i := (round + k) % len(cases)
			a.mu.Lock()
			clear(a.bySource)
			clear(a.byAcct)
			a.mu.Unlock()
			start := time.Now()
			_, err := a.Login(ctx, "imap", cases[i].user, "wrong password", from)
			times[i] = append(times[i], time.Since(start))
			if !errors.Is(err, auth.ErrInvalidCredentials) {
				b.Fatalf("%s: %v", cases[i].user, err)
			}
		}
		round++
	}
	for i, c := range cases {
		slices.Sort(times[i])
		b.ReportMetric(float64(times[i][len(times[i])/2].Microseconds())/1000, c.name+"-median-ms")
	}
}
