package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
)

// imapConfig is the configuration of an imap run.
type imapConfig struct {
	Server  imapServer
	Mailbox string // mailbox to select. Default: INBOX.
	// Connections, each running every operation at the same time as the others. Default: 1.
	Connections int
	Rounds      int      // timed rounds of all operations. Default: 5.
	Warmup      int      // untimed rounds first, to fill the servers' caches. Default: 1.
	Ops         []string // operations to run, by name (imapOps); default: all
	BodySample  int      // messages whose whole body fetch-bodies fetches. Default: 100.
	StoreCount  int      // messages store-add and store-remove change. Default: 1000.
	HeaderField string   // header that search-header searches. Default: Subject.
	HeaderTerm  string   // what search-header looks for. Default: defaultHeaderTerm.
	BodyTerm    string   // what search-body looks for. Default: defaultBodyTerm.
	// Connections being opened at once; Dovecot starts a process for each. Default: 16.
	DialConcurrency int
	Idle            idleConfig
}

// imapOp is one measured operation: a command, the same for every round.
type imapOp struct {
	name string
	// command returns the command that connection i (of n) runs, in a mailbox of exists
	// messages; "" when the mailbox is too small for it.
	command func(cfg *imapConfig, i, n, exists int) string
	// unit names what result counts in the untagged responses, see countResult.
	unit string
}

// imapOps are the operations in the order a round runs them. STORE +FLAGS comes before -FLAGS,
// so a round leaves the flags as it found them.
var imapOps = []imapOp{
	{"login", func(*imapConfig, int, int, int) string {
		return loginCommand
	}, ""},
	{"select", func(cfg *imapConfig, _, _, _ int) string {
		return "SELECT " + quote(cfg.Mailbox)
	}, "EXISTS"},
	{"fetch-meta", func(_ *imapConfig, _, _, exists int) string {
		return ifAny(exists, "FETCH 1:* (FLAGS ENVELOPE RFC822.SIZE)")
	}, "FETCH"},
	{"fetch-flags", func(_ *imapConfig, _, _, exists int) string {
		return ifAny(exists, "FETCH 1:* (FLAGS)")
	}, "FETCH"},
	{"fetch-bodies", func(cfg *imapConfig, i, n, exists int) string {
		return ifAny(exists, "FETCH "+slice(i, n, cfg.BodySample, exists)+" BODY.PEEK[]")
	}, "FETCH"},
	{"search-header", func(cfg *imapConfig, _, _, _ int) string {
		return "UID SEARCH HEADER " + quote(cfg.HeaderField) + " " + quote(cfg.HeaderTerm)
	}, "UIDs"},
	{"search-body", func(cfg *imapConfig, _, _, _ int) string {
		return "UID SEARCH BODY " + quote(cfg.BodyTerm)
	}, "UIDs"},
	{"store-add", func(cfg *imapConfig, i, n, exists int) string {
		return ifAny(exists, "STORE "+slice(i, n, cfg.StoreCount, exists)+` +FLAGS (\Flagged)`)
	}, "FETCH"},
	{"store-remove", func(cfg *imapConfig, i, n, exists int) string {
		return ifAny(exists, "STORE "+slice(i, n, cfg.StoreCount, exists)+` -FLAGS (\Flagged)`)
	}, "FETCH"},
}

// loginCommand stands for the login operation, which is not a command on the session's
// connection: it times connecting anew, the greeting and LOGIN (STARTTLS or the TLS handshake
// included), and then logs out, untimed.
const loginCommand = "connect, LOGIN"

func ifAny(exists int, command string) string {
	if exists == 0 {
		return ""
	}
	return command
}

// slice returns the sequence set of count messages that connection i of n works on: disjoint
// slices from message 1 on when the mailbox holds them all, else the first count messages (all
// connections then share them).
func slice(i, n, count, exists int) string {
	count = min(count, exists)
	first := 1
	if n*count <= exists {
		first += i * count
	}
	return strconv.Itoa(first) + ":" + strconv.Itoa(first+count-1)
}

func opNames() []string {
	names := make([]string, len(imapOps))
	for i, op := range imapOps {
		names[i] = op.name
	}
	return names
}

func newIMAPCommand() *cobra.Command {
	cfg := imapConfig{
		Mailbox:         "INBOX",
		Connections:     1,
		Rounds:          5,
		Warmup:          1,
		Ops:             opNames(),
		BodySample:      100,
		StoreCount:      1000,
		HeaderField:     "Subject",
		HeaderTerm:      defaultHeaderTerm,
		BodyTerm:        defaultBodyTerm,
		Idle:            idleConfig{Settle: 5 * time.Second},
		DialConcurrency: 16,
	}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "imap --addr HOST:PORT --user USER --password PASS [flags]",
		Short: "Time IMAP commands on a large mailbox, or measure the memory of idle connections",
		Long: `Time IMAP commands (RFC 9051) on a mailbox, from several connections at once.

Each of --connections connections logs in (LOGIN, after STARTTLS with
--starttls; --tls connects with implicit TLS) and selects --mailbox. Then
--warmup untimed rounds and --rounds timed rounds run these operations in turn:

  login          connect anew and LOGIN (then LOGOUT, untimed)
  select         SELECT INBOX
  fetch-meta     FETCH 1:* (FLAGS ENVELOPE RFC822.SIZE)
  fetch-flags    FETCH 1:* (FLAGS)
  fetch-bodies   FETCH 1:100 BODY.PEEK[]            (--body-sample messages)
  search-header  UID SEARCH HEADER Subject TERM     (--header-field, --header-term)
  search-body    UID SEARCH BODY TERM               (--body-term)
  store-add      STORE 1:1000 +FLAGS (\Flagged)     (--store-count messages)
  store-remove   STORE 1:1000 -FLAGS (\Flagged)

Every connection runs an operation at the same time, and the next operation
starts when all have finished. With several connections, fetch-bodies and the
STOREs work on disjoint slices of the mailbox (101:200 for the second
connection...) when it is large enough. A time runs from sending the command to
reading its tagged OK, every response read. The report gives, per operation,
the median (p50), p90 and largest of the times of all connections and rounds,
the count in the untagged responses (EXISTS, FETCH responses or UIDs found, of
the first connection's last round) and the response size. The default search
terms match messages made by 'mailbench fill'.

With --idle N, nothing is timed: N connections log in, select --mailbox and
start IDLE (RFC 2177), and the report gives the server's memory per idle
connection: the resident set (RSS, and PSS, which shares pages between
processes) of the server's processes, read from /proc before the connections
open and after the last one idles, divided by N. The first reading follows a
warm-up burst of --dial-concurrency logins (logged out again), so that what the
first logins cost once is not counted per connection; each reading waits
--settle first. The processes are --pid PID (a one-process server such as
posthorn) or all processes named --pids-of NAME (Dovecot: --pids-of imap, one
process per session); both need the server on this machine and read access to
/proc/PID/smaps_rollup (root for another user's processes).

A Go server keeps garbage in its heap until its next collection, and its
resident memory follows: posthorn's password hashes (argon2id, 64 MiB each) can
make the RSS figures mostly noise. With --metrics URL (posthorn's GET /metrics),
each reading waits (up to --gc-wait) for the server's next garbage collection
and also reads its live heap and goroutine stacks (go_memstats_heap_alloc_bytes
and go_memstats_stack_inuse_bytes): what the idle connections hold.

Exit status: 0 if every command succeeded, 1 if any failed, 2 for a bad
command line.`,
		Example: "  mailbench imap --addr 127.0.0.1:2143 --user u1@test.example --password secret --connections 4\n" +
			"  mailbench imap --addr 127.0.0.1:2643 --user u1@test.example --password pass1 --idle 1000 --pids-of imap\n" +
			"  mailbench imap --addr 127.0.0.1:2143 --user u1@test.example --password secret --idle 1000 --pid 4242 --metrics http://127.0.0.1:8080/metrics",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Idle.Connections > 0 {
				r, err := runIdle(cmd.Context(), &cfg)
				if err != nil {
					return err
				}
				return r.report(cmd.OutOrStdout(), asJSON)
			}
			r, err := runIMAP(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			return r.report(cmd.OutOrStdout(), cmd.ErrOrStderr(), asJSON)
		},
	}
	f := cmd.Flags()
	cfg.Server.addFlags(f)
	f.StringVar(&cfg.Mailbox, "mailbox", cfg.Mailbox, "mailbox to select")
	f.IntVar(&cfg.Connections, "connections", cfg.Connections, "connections, each running every operation")
	f.IntVar(&cfg.Rounds, "rounds", cfg.Rounds, "timed rounds of the operations")
	f.IntVar(&cfg.Warmup, "warmup", cfg.Warmup, "untimed rounds before the timed ones")
	f.StringSliceVar(&cfg.Ops, "ops", cfg.Ops, "operations to run, in this order")
	f.IntVar(&cfg.BodySample, "body-sample", cfg.BodySample, "messages whose whole body fetch-bodies fetches")
	f.IntVar(&cfg.StoreCount, "store-count", cfg.StoreCount, "messages whose flags store-add and store-remove change")
	f.StringVar(&cfg.HeaderField, "header-field", cfg.HeaderField, "header field search-header searches")
	f.StringVar(&cfg.HeaderTerm, "header-term", cfg.HeaderTerm, "string search-header looks for")
	f.StringVar(&cfg.BodyTerm, "body-term", cfg.BodyTerm, "string search-body looks for")
	f.IntVar(&cfg.DialConcurrency, "dial-concurrency", cfg.DialConcurrency, "connections being opened at once")
	cfg.Idle.addFlags(f)
	f.BoolVar(&asJSON, "json", false, "print the report as one JSON object")
	for _, name := range []string{"addr", "user", "password"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name above is misspelt
		}
	}
	return cmd
}

// validate refuses a configuration that cannot make a meaningful run.
func (cfg *imapConfig) validate() error {
	if err := cfg.Server.validate(); err != nil {
		return err
	}
	for _, s := range []struct{ flag, value string }{
		{"--mailbox", cfg.Mailbox}, {"--header-field", cfg.HeaderField},
		{"--header-term", cfg.HeaderTerm}, {"--body-term", cfg.BodyTerm},
	} {
		if s.value == "" || !quotable(s.value) {
			return fmt.Errorf("%s %q: want printable ASCII", s.flag, s.value)
		}
	}
	for _, name := range cfg.Ops {
		if !slices.Contains(opNames(), name) {
			return fmt.Errorf("--ops: unknown operation %q (known: %s)", name, strings.Join(opNames(), ", "))
		}
	}
	switch {
	case cfg.Connections < 1:
		return fmt.Errorf("--connections %d: must be at least 1", cfg.Connections)
	case cfg.Rounds < 1:
		return fmt.Errorf("--rounds %d: must be at least 1", cfg.Rounds)
	case cfg.Warmup < 0:
		return fmt.Errorf("--warmup %d: must not be negative", cfg.Warmup)
	case cfg.BodySample < 1:
		return fmt.Errorf("--body-sample %d: must be at least 1", cfg.BodySample)
	case cfg.StoreCount < 1:
		return fmt.Errorf("--store-count %d: must be at least 1", cfg.StoreCount)
	case cfg.DialConcurrency < 1:
		return fmt.Errorf("--dial-concurrency %d: must be at least 1", cfg.DialConcurrency)
	case len(cfg.Ops) == 0:
		return errors.New("--ops: name at least one operation")
	}
	return cfg.Idle.validate()
}

// opResult is what one operation did over a run.
type opResult struct {
	Name      string          `json:"name"`
	Command   string          `json:"command"` // as the first connection sent it
	Samples   int             `json:"samples"` // successful runs, timed
	Failures  int             `json:"failures"`
	LatencyMS latencySummary  `json:"latency_ms"`
	Count     int64           `json:"count"` // EXISTS, FETCH responses or UIDs, see imapOp.unit
	Unit      string          `json:"unit"`
	Bytes     int64           `json:"response_bytes"` // read for the command, tagged line included
	latencies []time.Duration // of the timed rounds
}

// imapReport is the outcome of an imap run.
type imapReport struct {
	Mode        string      `json:"mode"`
	Addr        string      `json:"addr"`
	Mailbox     string      `json:"mailbox"`
	Messages    int         `json:"messages"` // EXISTS at the first SELECT
	Connections int         `json:"connections"`
	Rounds      int         `json:"rounds"`
	Warmup      int         `json:"warmup"`
	Operations  []*opResult `json:"operations"`
	FirstErrors []string    `json:"first_errors,omitempty"`
}

// imapSession is one of the run's connections, with the size of its mailbox.
type imapSession struct {
	conn   *imapConn
	exists int
}

// runIMAP runs the operations as cfg says. It returns an error for an invalid cfg (a usage
// error) and a runFailure when the connections cannot be set up; failed commands are counted
// in the report. Canceling ctx stops the run after the operation in progress.
func runIMAP(ctx context.Context, cfg imapConfig) (*imapReport, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	sessions, err := openSessions(ctx, &cfg, cfg.Connections, cfg.DialConcurrency)
	defer func() {
		for _, s := range sessions {
			if s != nil {
				// The figures are taken; a server that does not answer LOGOUT loses nothing.
				_ = s.conn.logout()
			}
		}
	}()
	if err != nil {
		return nil, runFailure{err}
	}
	rep := &imapReport{
		Mode: "imap", Addr: cfg.Server.Addr, Mailbox: cfg.Mailbox, Messages: sessions[0].exists,
		Connections: cfg.Connections, Rounds: cfg.Rounds, Warmup: cfg.Warmup,
	}
	for _, name := range cfg.Ops {
		i := slices.IndexFunc(imapOps, func(op imapOp) bool { return op.name == name })
		rep.Operations = append(rep.Operations, &opResult{Name: name, Unit: imapOps[i].unit})
	}
	errs := &errorSample{max: maxErrorSample}
	for round := 0; round < cfg.Warmup+cfg.Rounds && ctx.Err() == nil; round++ {
		timed := round >= cfg.Warmup
		for _, res := range rep.Operations {
			if ctx.Err() != nil {
				break
			}
			runOp(ctx, &cfg, sessions, res, timed, errs)
		}
	}
	for _, res := range rep.Operations {
		res.LatencyMS = summarizeLatencies(res.latencies)
	}
	rep.FirstErrors = errs.list
	return rep, nil
}

// openSessions logs n connections in and selects the mailbox on each, dialing at most
// parallel at once. On error it returns the sessions opened anyway (nil for the others).
func openSessions(ctx context.Context, cfg *imapConfig, n, parallel int) ([]*imapSession, error) {
	sessions := make([]*imapSession, n)
	err := inParallel(n, parallel, func(i int) error {
		s, err := openSession(ctx, cfg)
		if err != nil {
			return err
		}
		sessions[i] = s
		return nil
	})
	return sessions, err
}

// openSession logs one connection in and selects the mailbox.
func openSession(ctx context.Context, cfg *imapConfig) (*imapSession, error) {
	c, err := dialIMAP(ctx, &cfg.Server)
	if err != nil {
		return nil, err
	}
	s := &imapSession{conn: c}
	if err := c.run("SELECT "+quote(cfg.Mailbox), s.noteExists); err != nil {
		// The connection is useless; its Close error adds nothing to err.
		_ = c.conn.Close()
		return nil, err
	}
	return s, nil
}

// noteExists records the size of the mailbox from an untagged EXISTS (RFC 9051 §7.4.1).
func (s *imapSession) noteExists(resp []byte) {
	if n, ok := numberBefore(resp, " EXISTS"); ok {
		s.exists = n
	}
}

// numberBefore parses "* n WORD..." responses: the n, when the response's keyword is word.
func numberBefore(resp []byte, word string) (int, bool) {
	rest, ok := bytes.CutPrefix(resp, []byte("* "))
	if !ok {
		return 0, false
	}
	sp := bytes.IndexByte(rest, ' ')
	if sp < 0 || !bytes.HasPrefix(rest[sp:], []byte(word)) {
		return 0, false
	}
	n, err := strconv.Atoi(string(rest[:sp]))
	return n, err == nil
}

// runOp runs one operation on every session at once and records the outcome in res.
func runOp(ctx context.Context, cfg *imapConfig, sessions []*imapSession, res *opResult, timed bool, errs *errorSample) {
	op := imapOps[slices.IndexFunc(imapOps, func(op imapOp) bool { return op.name == res.Name })]
	type outcome struct {
		latency time.Duration
		count   int64
		bytes   int64
		command string
		err     error
	}
	outcomes := make([]outcome, len(sessions))
	var wg sync.WaitGroup
	for i, s := range sessions {
		command := op.command(cfg, i, len(sessions), s.exists)
		outcomes[i].command = command
		if command == "" {
			outcomes[i].err = fmt.Errorf("%s: the mailbox is empty", res.Name)
			continue
		}
		if command == loginCommand {
			wg.Go(func() {
				start := time.Now()
				c, err := dialIMAP(ctx, &cfg.Server)
				outcomes[i].latency, outcomes[i].err = time.Since(start), err
				if err == nil {
					// Timed already; a server that does not answer LOGOUT loses nothing.
					_ = c.logout()
				}
			})
			continue
		}
		wg.Go(func() {
			var count int64
			start := time.Now()
			err := s.conn.run(command, func(resp []byte) {
				count += countResult(op.unit, resp)
				s.noteExists(resp)
			})
			outcomes[i].latency = time.Since(start)
			outcomes[i].count, outcomes[i].bytes, outcomes[i].err = count, s.conn.read, err
		})
	}
	wg.Wait()
	res.Command = outcomes[0].command
	for i, o := range outcomes {
		if o.err != nil {
			res.Failures++
			errs.add(o.err)
			continue
		}
		if i == 0 {
			res.Count, res.Bytes = o.count, o.bytes
		}
		if timed {
			res.Samples++
			res.latencies = append(res.latencies, o.latency)
		}
	}
}

// countResult returns what resp adds to an operation's count: 1 for a FETCH response, the
// number of UIDs of a SEARCH response (RFC 9051 §7.3.5), the message count of EXISTS.
func countResult(unit string, resp []byte) int64 {
	switch unit {
	case "EXISTS":
		n, _ := numberBefore(resp, " EXISTS")
		return int64(n)
	case "FETCH":
		if _, ok := numberBefore(resp, " FETCH"); ok {
			return 1
		}
	case "UIDs":
		if rest, ok := bytes.CutPrefix(resp, []byte("* SEARCH")); ok {
			return int64(len(bytes.Fields(rest)))
		}
	}
	return 0
}

// failures returns the number of commands that failed.
func (r *imapReport) failures() int {
	n := 0
	for _, op := range r.Operations {
		n += op.Failures
	}
	return n
}

// report prints r on stdout, as text or JSON, and the first errors on stderr. It returns a
// runFailure when a command failed or the report could not be written.
func (r *imapReport) report(stdout, stderr io.Writer, asJSON bool) error {
	write := r.writeText
	if asJSON {
		write = func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(r)
		}
	}
	if err := write(stdout); err != nil {
		return runFailure{fmt.Errorf("write report: %w", err)}
	}
	failures := r.failures()
	if failures == 0 {
		return nil
	}
	if _, err := fmt.Fprintln(stderr, "first errors:"); err != nil {
		return runFailure{fmt.Errorf("write errors: %w", err)}
	}
	for _, e := range r.FirstErrors {
		if _, err := fmt.Fprintf(stderr, "  %s\n", e); err != nil {
			return runFailure{fmt.Errorf("write errors: %w", err)}
		}
	}
	return runFailure{fmt.Errorf("%d commands failed", failures)}
}

// writeText prints one line per operation, its name first, so scripts can pick figures with
// awk '$1 == "fetch-meta" {print $2}'.
func (r *imapReport) writeText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "mode          imap\naddr          %s\nmailbox       %s (%d messages)\n", r.Addr, r.Mailbox, r.Messages)
	fmt.Fprintf(&b, "connections   %d\nrounds        %d timed, %d warm-up\n\n", r.Connections, r.Rounds, r.Warmup)
	fmt.Fprintf(&b, "%-14s %10s %10s %10s %8s %-7s %12s  %s\n", "operation", "p50_ms", "p90_ms", "max_ms", "count", "", "bytes", "command")
	for _, op := range r.Operations {
		fmt.Fprintf(&b, "%-14s %10.2f %10.2f %10.2f %8d %-7s %12d  %s\n", op.Name, op.LatencyMS.P50,
			op.LatencyMS.P90, op.LatencyMS.Max, op.Count, op.Unit, op.Bytes, op.Command)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
