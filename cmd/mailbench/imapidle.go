package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"sync"
	"time"

	"github.com/spf13/pflag"
)

// idleConfig configures the --idle mode of imap: hold idle connections and measure what they
// cost the server.
type idleConfig struct {
	Connections int      // idle connections to hold; 0: the mode is off. Default: 0.
	PID         int      // the server process to measure, when it is one process
	PIDsOf      []string // names (as in /proc/PID/comm) of the server processes to measure
	// Wait before each measurement (after the warm-up logins, after the last connection
	// starts IDLE), so that the server is done with the logins. Default: 5s.
	Settle time.Duration
	// Prometheus text URL of a Go server's runtime statistics (posthorn: http://HOST/metrics);
	// "" for none. With it, each measurement waits for the server's next garbage collection
	// and also reads its live heap and goroutine stacks.
	MetricsURL string
	// Longest wait for that collection. Default: 3m (Go forces one every 2 minutes).
	GCWait   time.Duration
	ProcRoot string // where proc(5) is mounted; tests point it elsewhere. Default: /proc.
}

func (c *idleConfig) addFlags(f *pflag.FlagSet) {
	f.IntVar(&c.Connections, "idle", 0, "hold this many idle connections and report the server's memory per connection")
	f.IntVar(&c.PID, "pid", 0, "with --idle: the server's process id")
	f.StringSliceVar(&c.PIDsOf, "pids-of", nil, "with --idle: measure every process with this name (Dovecot: imap)")
	f.DurationVar(&c.Settle, "settle", 5*time.Second, "with --idle: wait this long before each measurement")
	f.StringVar(&c.MetricsURL, "metrics", "", "with --idle: a Go server's Prometheus URL; wait for its garbage collections and report its live heap and stacks")
	f.DurationVar(&c.GCWait, "gc-wait", 3*time.Minute, "with --metrics: longest wait for the server's next garbage collection")
}

func (c *idleConfig) validate() error {
	switch {
	case c.Connections < 0:
		return fmt.Errorf("--idle %d: must not be negative", c.Connections)
	case c.Connections == 0 && (c.PID != 0 || len(c.PIDsOf) > 0):
		return errors.New("--pid and --pids-of only apply with --idle")
	case c.Connections > 0 && (c.PID == 0) == (len(c.PIDsOf) == 0):
		return errors.New("--idle needs the server's processes: --pid or --pids-of (one of them)")
	case c.PID < 0:
		return fmt.Errorf("--pid %d: want a process id", c.PID)
	case c.Settle < 0:
		return fmt.Errorf("--settle %s: must not be negative", c.Settle)
	case c.MetricsURL != "" && c.Connections == 0:
		return errors.New("--metrics only applies with --idle")
	case c.MetricsURL != "" && c.GCWait <= 0:
		return fmt.Errorf("--gc-wait %s: must be positive", c.GCWait)
	}
	if c.MetricsURL != "" {
		if u, err := url.Parse(c.MetricsURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("--metrics %q: want an http:// URL", c.MetricsURL)
		}
	}
	return nil
}

// measureSettled waits Settle, and with MetricsURL for a garbage collection that started after
// that, then measures. Reading the resident memory right after a collection compares like with
// like: a Go server's heap holds garbage, such as a password hash's 64 MiB, until the next one.
func (c *idleConfig) measureSettled(ctx context.Context) (memory, error) {
	select {
	case <-time.After(c.Settle):
	case <-ctx.Done():
		return memory{}, ctx.Err()
	}
	var live int64
	if c.MetricsURL != "" {
		var err error
		if live, err = goLiveAfter(ctx, c.MetricsURL, time.Now(), c.GCWait); err != nil {
			return memory{}, err
		}
	}
	m, err := c.measure()
	m.GoLive = live
	return m, err
}

// idleReport is the outcome of an --idle run.
type idleReport struct {
	Mode        string  `json:"mode"`
	Addr        string  `json:"addr"`
	Mailbox     string  `json:"mailbox"`
	Messages    int     `json:"messages"` // EXISTS at the SELECT of the first connection
	Connections int     `json:"connections"`
	OpenSeconds float64 `json:"open_seconds"` // to log in, select and start IDLE on all
	Before      memory  `json:"before"`
	After       memory  `json:"after"`
	// (After - Before) / Connections, in KiB.
	RSSPerConnectionKiB    float64 `json:"rss_per_connection_kib"`
	PSSPerConnectionKiB    float64 `json:"pss_per_connection_kib"`
	GoLivePerConnectionKiB float64 `json:"go_live_per_connection_kib,omitempty"` // with --metrics
}

// runIdle holds cfg.Idle.Connections idle connections and measures the server around them. It
// returns an error for an invalid cfg (a usage error) and a runFailure when a connection could
// not be opened or the memory not read.
func runIdle(ctx context.Context, cfg *imapConfig) (*idleReport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// A first burst of sessions, ended before the first measurement, so that what logging in
	// costs once (a password hash's buffers, caches, pools, processes kept for reuse) is in
	// both figures rather than counted per connection.
	warm, err := openSessions(ctx, cfg, min(cfg.DialConcurrency, cfg.Idle.Connections), cfg.DialConcurrency)
	if lerr := forEach(warm, cfg.DialConcurrency, func(_ int, s *imapSession) error { return s.conn.logout() }); err == nil {
		err = lerr
	}
	if err != nil {
		return nil, runFailure{fmt.Errorf("warm-up: %w", err)}
	}
	before, err := cfg.Idle.measureSettled(ctx)
	if err != nil {
		return nil, runFailure{err}
	}
	if before.Processes == 0 && cfg.Idle.PID != 0 {
		return nil, runFailure{fmt.Errorf("process %d: not found", cfg.Idle.PID)}
	}
	n := cfg.Idle.Connections
	start := time.Now()
	sessions, err := openSessions(ctx, cfg, n, cfg.DialConcurrency)
	idling := make([]string, n) // IDLE tag of each session
	if err == nil {
		err = forEach(sessions, cfg.DialConcurrency, func(i int, s *imapSession) error {
			tag, err := s.conn.idle()
			idling[i] = tag
			return err
		})
	}
	opened := time.Since(start)
	defer func() {
		// DONE and LOGOUT, a few at a time, so that a one-process-per-session server is not
		// asked to end a thousand processes at once. The figures are taken: errors here change
		// nothing.
		_ = forEach(sessions, cfg.DialConcurrency, func(i int, s *imapSession) error {
			if idling[i] != "" {
				_ = s.conn.done(idling[i])
			}
			return s.conn.logout()
		})
	}()
	if err != nil {
		return nil, runFailure{err}
	}
	after, err := cfg.Idle.measureSettled(ctx)
	if err != nil {
		return nil, runFailure{err}
	}
	perConn := func(a, b int64) float64 { return float64(a-b) / float64(n) / 1024 }
	return &idleReport{
		Mode: "imap-idle", Addr: cfg.Server.Addr, Mailbox: cfg.Mailbox, Messages: sessions[0].exists,
		Connections: n, OpenSeconds: opened.Seconds(), Before: before, After: after,
		RSSPerConnectionKiB:    perConn(after.RSS, before.RSS),
		PSSPerConnectionKiB:    perConn(after.PSS, before.PSS),
		GoLivePerConnectionKiB: perConn(after.GoLive, before.GoLive),
	}, nil
}

// inParallel calls f(i) for every i in [0, n), at most limit at once, and returns the first
// error (of the lowest i).
func inParallel(n, limit int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, limit)
	for i := range n {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(i)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("connection %d: %w", i+1, err)
		}
	}
	return nil
}

// forEach calls f for every session that is not nil, at most limit at once, and returns the
// first error.
func forEach(sessions []*imapSession, limit int, f func(i int, s *imapSession) error) error {
	return inParallel(len(sessions), limit, func(i int) error {
		if sessions[i] == nil {
			return nil
		}
		return f(i, sessions[i])
	})
}

// report prints r on w as text or JSON.
func (r *idleReport) report(w io.Writer, asJSON bool) error {
	var b bytes.Buffer
	if asJSON {
		enc := json.NewEncoder(&b)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return runFailure{fmt.Errorf("write report: %w", err)}
		}
	} else {
		mib := func(n int64) float64 { return float64(n) / (1 << 20) }
		fmt.Fprintf(&b, "mode                    imap idle\naddr                    %s\n", r.Addr)
		fmt.Fprintf(&b, "mailbox                 %s (%d messages)\n", r.Mailbox, r.Messages)
		fmt.Fprintf(&b, "idle_connections        %d\nopen_seconds            %.1f\n", r.Connections, r.OpenSeconds)
		fmt.Fprintf(&b, "processes               %d -> %d\n", r.Before.Processes, r.After.Processes)
		fmt.Fprintf(&b, "rss_mib                 %.1f -> %.1f\n", mib(r.Before.RSS), mib(r.After.RSS))
		fmt.Fprintf(&b, "pss_mib                 %.1f -> %.1f\n", mib(r.Before.PSS), mib(r.After.PSS))
		fmt.Fprintf(&b, "rss_per_connection_kib  %.1f\npss_per_connection_kib  %.1f\n", r.RSSPerConnectionKiB, r.PSSPerConnectionKiB)
		if r.After.GoLive != 0 {
			fmt.Fprintf(&b, "go_live_mib             %.1f -> %.1f\n", mib(r.Before.GoLive), mib(r.After.GoLive))
			fmt.Fprintf(&b, "go_live_per_conn_kib    %.1f\n", r.GoLivePerConnectionKiB)
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return runFailure{fmt.Errorf("write report: %w", err)}
	}
	return nil
}
