package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sync"
	"time"
)

// tally counts what one worker did. Each worker owns its tally, so recording takes no lock; the
// tallies are merged into a summary when all workers have finished.
type tally struct {
	sent        int64 // messages the server accepted
	refused     int64 // messages the server refused with a 4xx or 5xx reply
	errors      int64 // messages that failed otherwise (connection, protocol, timeout)
	bytes       int64 // size of the accepted messages, in bytes
	connections int64 // connections opened
	latencies   []time.Duration
}

// accepted records one message the server accepted.
func (t *tally) accepted(size int, latency time.Duration) {
	t.sent++
	t.bytes += int64(size)
	t.latencies = append(t.latencies, latency)
}

// errorSample keeps the first few distinct errors of a run, to show what went wrong without
// flooding the terminal. It is shared by the workers.
type errorSample struct {
	mu   sync.Mutex
	max  int
	list []string
}

func (s *errorSample) add(err error) {
	msg := err.Error()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.list) < s.max && !slices.Contains(s.list, msg) {
		s.list = append(s.list, msg)
	}
}

// latencySummary gives latency percentiles in milliseconds.
type latencySummary struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the nearest-rank method: the
// smallest value such that at least p percent of the values are less than or equal to it. It
// returns 0 for an empty slice.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// summarizeLatencies sorts latencies in place and returns their percentiles.
func summarizeLatencies(latencies []time.Duration) latencySummary {
	slices.Sort(latencies)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return latencySummary{
		P50: ms(percentile(latencies, 50)),
		P90: ms(percentile(latencies, 90)),
		P99: ms(percentile(latencies, 99)),
		Max: ms(percentile(latencies, 100)),
	}
}

// summary is the outcome of one run, whatever the mode. Rates count accepted messages only, and
// latencies are those of accepted messages: a refusal is usually quicker than a delivery and
// would flatter the figures.
type summary struct {
	Mode              string         `json:"mode"`
	Addr              string         `json:"addr"`
	RunID             string         `json:"run_id"` // in every Message-ID, to find the messages again
	Concurrency       int            `json:"concurrency"`
	MessageBytes      int            `json:"message_bytes"` // requested size of one message
	Sent              int64          `json:"sent"`
	Refused           int64          `json:"refused"`
	Errors            int64          `json:"errors"`
	Connections       int64          `json:"connections"`
	ElapsedSeconds    float64        `json:"elapsed_seconds"`
	MessagesPerSecond float64        `json:"messages_per_second"`
	MBPerSecond       float64        `json:"mb_per_second"` // 1 MB = 10^6 bytes
	LatencyMS         latencySummary `json:"latency_ms"`
	FirstErrors       []string       `json:"first_errors,omitempty"`
	POP3              *pop3Summary   `json:"pop3,omitempty"`
}

// pop3Summary is the part of a pop3 run's time that is not logging in.
type pop3Summary struct {
	LoginMS       latencySummary `json:"login_ms"`        // connect, greeting, USER, PASS
	RetrSeconds   float64        `json:"retr_seconds"`    // first RETR to last response, QUIT excluded
	RetrPerSecond float64        `json:"retr_per_second"` // messages / retr_seconds
}

// addTallies merges the workers' tallies into s and computes the rates over elapsed.
func (s *summary) addTallies(tallies []tally, elapsed time.Duration) {
	var bytes int64
	var latencies []time.Duration
	for _, t := range tallies {
		s.Sent += t.sent
		s.Refused += t.refused
		s.Errors += t.errors
		s.Connections += t.connections
		bytes += t.bytes
		latencies = append(latencies, t.latencies...)
	}
	s.ElapsedSeconds = elapsed.Seconds()
	if s.ElapsedSeconds > 0 {
		s.MessagesPerSecond = float64(s.Sent) / s.ElapsedSeconds
		s.MBPerSecond = float64(bytes) / 1e6 / s.ElapsedSeconds
	}
	s.LatencyMS = summarizeLatencies(latencies)
}

// failed reports whether any message was refused or failed.
func (s *summary) failed() bool {
	return s.Refused > 0 || s.Errors > 0
}

// failure describes a failed run in one line, for the exit message.
func (s *summary) failure() error {
	return fmt.Errorf("%d refused, %d failed, of %d messages", s.Refused, s.Errors, s.Sent+s.Refused+s.Errors)
}

func (s *summary) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

func (s *summary) writeText(w io.Writer) error {
	_, err := fmt.Fprintf(w, `mode          %s
addr          %s
run id        %s
concurrency   %d
message size  %d bytes
sent          %d
refused       %d
errors        %d
connections   %d
elapsed       %.3f s
messages/s    %.1f
MB/s          %.2f
latency p50   %.2f ms
latency p90   %.2f ms
latency p99   %.2f ms
latency max   %.2f ms
`, s.Mode, s.Addr, s.RunID, s.Concurrency, s.MessageBytes, s.Sent, s.Refused, s.Errors,
		s.Connections, s.ElapsedSeconds, s.MessagesPerSecond, s.MBPerSecond,
		s.LatencyMS.P50, s.LatencyMS.P90, s.LatencyMS.P99, s.LatencyMS.Max)
	if err != nil || s.POP3 == nil {
		return err
	}
	_, err = fmt.Fprintf(w, `login p50     %.2f ms
login max     %.2f ms
retr          %.4f s
retr msgs/s   %.1f
`, s.POP3.LoginMS.P50, s.POP3.LoginMS.Max, s.POP3.RetrSeconds, s.POP3.RetrPerSecond)
	return err
}

// writeErrors lists the first distinct errors, one a line.
func (s *summary) writeErrors(w io.Writer) error {
	for _, e := range s.FirstErrors {
		if _, err := fmt.Fprintf(w, "  %s\n", e); err != nil {
			return err
		}
	}
	return nil
}

// report prints s on stdout, as text or as JSON, and the first errors on stderr. It returns a
// runFailure when a message was refused or failed, or when the report could not be written.
func report(stdout, stderr io.Writer, s *summary, asJSON bool) error {
	write := s.writeText
	if asJSON {
		write = s.writeJSON
	}
	if err := write(stdout); err != nil {
		return runFailure{fmt.Errorf("write report: %w", err)}
	}
	if !s.failed() {
		return nil
	}
	if _, err := fmt.Fprintln(stderr, "first errors:"); err != nil {
		return runFailure{fmt.Errorf("write errors: %w", err)}
	}
	if err := s.writeErrors(stderr); err != nil {
		return runFailure{fmt.Errorf("write errors: %w", err)}
	}
	return runFailure{s.failure()}
}
