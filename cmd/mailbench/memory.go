package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file reads what a server's memory is, from outside: the resident memory of its
// processes from proc(5), and for a Go server that exports its runtime's statistics (posthorn's
// GET /metrics), the live heap and goroutine stacks just after a garbage collection.

// memory is the memory of a server at one moment, in bytes.
type memory struct {
	Processes int   `json:"processes"`
	RSS       int64 `json:"rss"` // resident set size: a page shared by k processes counts k times
	PSS       int64 `json:"pss"` // proportional set size: a page shared by k processes counts 1/k each
	// The Go runtime's live heap and goroutine stacks, after a collection; 0 without --metrics.
	GoLive int64 `json:"go_live,omitempty"`
}

// measure reads the memory of the processes c names from proc(5).
func (c *idleConfig) measure() (memory, error) {
	root := c.ProcRoot
	if root == "" {
		root = "/proc"
	}
	pids := []int{c.PID}
	if len(c.PIDsOf) > 0 {
		var err error
		if pids, err = pidsNamed(root, c.PIDsOf); err != nil {
			return memory{}, err
		}
	}
	var m memory
	for _, pid := range pids {
		rss, pss, err := processMemory(root, pid)
		if errors.Is(err, fs.ErrNotExist) && len(c.PIDsOf) > 0 {
			continue // ended since it was listed
		}
		if err != nil {
			return memory{}, err
		}
		m.Processes++
		m.RSS += rss
		m.PSS += pss
	}
	return m, nil
}

// pidsNamed lists the processes whose command name (proc(5) /proc/PID/comm) is one of names.
func pidsNamed(root string, names []string) ([]int, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		comm, err := os.ReadFile(filepath.Join(root, e.Name(), "comm"))
		if err != nil {
			continue // ended since the listing, or not ours to read
		}
		if slices.Contains(names, strings.TrimSpace(string(comm))) {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// processMemory returns the RSS and PSS of process pid, from /proc/PID/smaps_rollup (Linux
// 4.14 and later).
func processMemory(root string, pid int) (rss, pss int64, err error) {
	f, err := os.Open(filepath.Join(root, strconv.Itoa(pid), "smaps_rollup"))
	if err != nil {
		return 0, 0, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	defer f.Close()
	var foundRSS, foundPSS bool
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Lines such as "Rss:                5324 kB".
		fields := strings.Fields(sc.Text())
		if len(fields) != 3 || fields[2] != "kB" {
			continue
		}
		kb, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue
		}
		switch fields[0] {
		case "Rss:":
			rss, foundRSS = kb<<10, true
		case "Pss:":
			pss, foundPSS = kb<<10, true
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, fmt.Errorf("memory of process %d: %w", pid, err)
	}
	if !foundRSS || !foundPSS {
		return 0, 0, fmt.Errorf("memory of process %d: no Rss or Pss in smaps_rollup", pid)
	}
	return rss, pss, nil
}

// The Go runtime statistics of the Prometheus Go collector, as client_golang exports them.
const (
	metricHeapAlloc = "go_memstats_heap_alloc_bytes"  // live objects, and garbage not yet swept
	metricStacks    = "go_memstats_stack_inuse_bytes" // goroutine stacks
	metricLastGC    = "go_memstats_last_gc_time_seconds"
)

// goLiveAfter waits until the Go server behind the metrics URL has completed a garbage
// collection after since (the runtime forces one at least every two minutes), polling every
// second for up to wait, and returns its heap (then nothing but live objects, in an idle
// server) plus its goroutine stacks.
func goLiveAfter(ctx context.Context, url string, since time.Time, wait time.Duration) (int64, error) {
	deadline := time.Now().Add(wait)
	for {
		m, err := readMetrics(ctx, url, metricHeapAlloc, metricStacks, metricLastGC)
		if err != nil {
			return 0, err
		}
		sec, frac := math.Modf(m[metricLastGC])
		if time.Unix(int64(sec), int64(frac*1e9)).After(since) {
			return int64(m[metricHeapAlloc] + m[metricStacks]), nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: no garbage collection within %s", url, wait)
		}
		select {
		case <-time.After(time.Second):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// readMetrics fetches a Prometheus text exposition and returns the values of the named metrics,
// which must be there and have no labels.
func readMetrics(ctx context.Context, url string, names ...string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	values := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok || !slices.Contains(names, name) {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", url, name, err)
		}
		values[name] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	for _, name := range names {
		if _, ok := values[name]; !ok {
			return nil, fmt.Errorf("%s: no %s", url, name)
		}
	}
	return values, nil
}
