package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeIMAP is an in-process IMAP server that answers the commands mailbench sends with fixed
// responses over a mailbox of len(messages) messages, and records every command.
type fakeIMAP struct {
	t        *testing.T
	addr     string
	messages [][]byte
	refuse   string            // a command starting with this gets NO
	onIdle   func(session int) // called when a session starts IDLE
	appended func(msg []byte)  // called for each APPEND
	mu       sync.Mutex
	commands []string // without tags, in arrival order
	sessions int
}

func startFakeIMAP(t *testing.T, messages [][]byte) *fakeIMAP {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIMAP{t: t, addr: l.Addr().String(), messages: messages}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.sessions++
			id := f.sessions
			f.mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				f.serve(c, id)
			})
		}
	})
	return f
}

func (f *fakeIMAP) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.commands)
}

var seqRange = regexp.MustCompile(`^(?:UID )?(?:FETCH|STORE) (\d+):(\d+|\*) `)

// serve runs one session. Literals in responses (an ENVELOPE subject with a CRLF and a brace
// in it, message bodies) check that the client reads them as data.
func (f *fakeIMAP) serve(c net.Conn, session int) {
	r := bufio.NewReader(c)
	w := bufio.NewWriter(c)
	defer w.Flush()
	w.WriteString("* OK fake IMAP ready\r\n")
	w.Flush()
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		tag, command, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
		f.mu.Lock()
		f.commands = append(f.commands, command)
		f.mu.Unlock()
		if f.refuse != "" && strings.HasPrefix(command, f.refuse) {
			fmt.Fprintf(w, "%s NO refused\r\n", tag)
			w.Flush()
			continue
		}
		first, last := 1, len(f.messages)
		if m := seqRange.FindStringSubmatch(command); m != nil {
			first, _ = strconv.Atoi(m[1])
			if m[2] != "*" {
				last, _ = strconv.Atoi(m[2])
			}
		}
		verb, _, _ := strings.Cut(command, " ")
		switch {
		case verb == "LOGIN":
			if command != `LOGIN "u@test.example" "pa\"ss"` {
				fmt.Fprintf(w, "%s NO [AUTHENTICATIONFAILED] bad user or password\r\n", tag)
				break
			}
			fmt.Fprintf(w, "%s OK logged in\r\n", tag)
		case verb == "SELECT":
			fmt.Fprintf(w, "* FLAGS (\\Seen \\Flagged)\r\n* %d EXISTS\r\n%s OK [READ-WRITE] selected\r\n", len(f.messages), tag)
		case strings.HasPrefix(command, "FETCH") && strings.Contains(command, "ENVELOPE"):
			for i := first; i <= last; i++ {
				fmt.Fprintf(w, "* %d FETCH (FLAGS () RFC822.SIZE %d ENVELOPE (NIL {8}\r\nsub\r\n{3} NIL NIL NIL NIL NIL NIL NIL NIL))\r\n", i, len(f.messages[i-1]))
			}
			fmt.Fprintf(w, "%s OK done\r\n", tag)
		case strings.HasPrefix(command, "FETCH"):
			for i := first; i <= last; i++ {
				fmt.Fprintf(w, "* %d FETCH (BODY[] {%d}\r\n%s)\r\n", i, len(f.messages[i-1]), f.messages[i-1])
			}
			fmt.Fprintf(w, "%s OK done\r\n", tag)
		case strings.HasPrefix(command, "UID SEARCH"):
			fmt.Fprintf(w, "* SEARCH 2 3\r\n%s OK done\r\n", tag)
		case verb == "STORE":
			for i := first; i <= last; i++ {
				fmt.Fprintf(w, "* %d FETCH (FLAGS (\\Flagged))\r\n", i)
			}
			fmt.Fprintf(w, "%s OK done\r\n", tag)
		case verb == "IDLE":
			if f.onIdle != nil {
				f.onIdle(session) // before the client hears it idles, and measures
			}
			w.WriteString("+ idling\r\n")
			w.Flush()
			if done, err := r.ReadString('\n'); err != nil || done != "DONE\r\n" {
				return
			}
			fmt.Fprintf(w, "%s OK idle done\r\n", tag)
		case verb == "APPEND":
			n, ok := literalLength([]byte(command))
			if !ok {
				fmt.Fprintf(w, "%s BAD no literal\r\n", tag)
				break
			}
			w.WriteString("+ go ahead\r\n")
			w.Flush()
			msg := make([]byte, n+2)
			if _, err := io.ReadFull(r, msg); err != nil {
				return
			}
			if f.appended != nil {
				f.appended(msg[:n])
			}
			fmt.Fprintf(w, "%s OK appended\r\n", tag)
		case verb == "LOGOUT":
			fmt.Fprintf(w, "* BYE bye\r\n%s OK logged out\r\n", tag)
			return
		default:
			fmt.Fprintf(w, "%s BAD unknown command\r\n", tag)
		}
		w.Flush()
	}
}

func fakeServer(addr string) imapServer {
	return imapServer{Addr: addr, User: "u@test.example", Password: `pa"ss`, Timeout: 10 * time.Second}
}

func testIMAPConfig(addr string) imapConfig {
	return imapConfig{
		Server: fakeServer(addr), Mailbox: "INBOX", Connections: 1, Rounds: 1, Ops: opNames(),
		BodySample: 100, StoreCount: 1000, HeaderField: "Subject", HeaderTerm: "invoice",
		BodyTerm: "qkapemi", DialConcurrency: 4, Idle: idleConfig{Settle: 0},
	}
}

func TestRunIMAP(t *testing.T) {
	f := startFakeIMAP(t, [][]byte{[]byte("m1\r\n"), []byte("message 2\r\n"), []byte("{5}\r\nthree\r\n")})
	cfg := testIMAPConfig(f.addr)
	cfg.Connections, cfg.Rounds, cfg.Warmup = 2, 3, 1
	rep, err := runIMAP(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Messages != 3 || rep.failures() != 0 || len(rep.FirstErrors) != 0 {
		t.Fatalf("report %+v", rep)
	}
	want := []struct {
		name, command string
		count         int64
	}{
		{"login", loginCommand, 0},
		{"select", `SELECT "INBOX"`, 3},
		{"fetch-meta", "FETCH 1:* (FLAGS ENVELOPE RFC822.SIZE)", 3},
		{"fetch-flags", "FETCH 1:* (FLAGS)", 3},
		{"fetch-bodies", "FETCH 1:3 BODY.PEEK[]", 3},
		{"search-header", `UID SEARCH HEADER "Subject" "invoice"`, 2},
		{"search-body", `UID SEARCH BODY "qkapemi"`, 2},
		{"store-add", `STORE 1:3 +FLAGS (\Flagged)`, 3},
		{"store-remove", `STORE 1:3 -FLAGS (\Flagged)`, 3},
	}
	if len(rep.Operations) != len(want) {
		t.Fatalf("%d operations, want %d", len(rep.Operations), len(want))
	}
	for i, w := range want {
		op := rep.Operations[i]
		if op.Name != w.name || op.Command != w.command || op.Count != w.count || op.Samples != 6 || op.Failures != 0 {
			t.Errorf("operation %d: %+v, want %s %q count %d, 6 samples", i, op, w.name, w.command, w.count)
		}
		if op.LatencyMS.P50 <= 0 || op.LatencyMS.Max < op.LatencyMS.P50 {
			t.Errorf("%s: latencies %+v", op.Name, op.LatencyMS)
		}
	}
	if got := rep.Operations[4].Bytes; got < int64(len("three")+len("message 2")+len("m1")) {
		t.Errorf("fetch-bodies read %d bytes", got)
	}
	// Each connection: LOGIN and SELECT to start, 4 rounds of 8 commands and the login
	// operation's LOGIN and LOGOUT, LOGOUT at the end.
	commands := f.recorded()
	if n := len(commands); n != 2*(2+4*(8+2)+1) {
		t.Errorf("%d commands: %q", n, commands)
	}
}

func TestIMAPDisjointSlices(t *testing.T) {
	for _, tt := range []struct {
		i, n, count, exists int
		want                string
	}{
		{0, 1, 1000, 100000, "1:1000"},
		{1, 4, 1000, 100000, "1001:2000"},
		{3, 4, 1000, 3999, "1:1000"}, // too small to give each its own slice
		{0, 1, 1000, 10, "1:10"},
	} {
		if got := slice(tt.i, tt.n, tt.count, tt.exists); got != tt.want {
			t.Errorf("slice(%d, %d, %d, %d) = %q, want %q", tt.i, tt.n, tt.count, tt.exists, got, tt.want)
		}
	}
}

func TestIMAPExitStatus(t *testing.T) {
	f := startFakeIMAP(t, [][]byte{[]byte("m1\r\n")})
	f.refuse = "UID SEARCH BODY"
	args := []string{"imap", "--addr", f.addr, "--user", "u@test.example", "--password", `pa"ss`, "--rounds", "2", "--warmup", "0"}
	code, stdout, stderr := runArgs(t, append(args, "--json")...)
	if code != exitFailed {
		t.Fatalf("exit %d, want %d; stderr %q", code, exitFailed, stderr)
	}
	var rep imapReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	for _, op := range rep.Operations {
		if failures := map[bool]int{true: 2}[op.Name == "search-body"]; op.Failures != failures {
			t.Errorf("%s: %d failures, want %d", op.Name, op.Failures, failures)
		}
	}
	for _, want := range []string{`UID SEARCH BODY "qkapemi": NO refused`, "mailbench imap: 2 commands failed"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr %q does not mention %q", stderr, want)
		}
	}

	f.refuse = ""
	code, stdout, stderr = runArgs(t, append(args, "--ops", "select,fetch-meta")...)
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{"mailbox       INBOX (1 messages)", "\nselect ", "\nfetch-meta ", "FETCH 1:* (FLAGS ENVELOPE RFC822.SIZE)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report does not have %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "store-add") {
		t.Errorf("report has operations not asked for:\n%s", stdout)
	}

	code, _, stderr = runArgs(t, "imap", "--addr", f.addr, "--user", "u@test.example", "--password", "wrong")
	if code != exitFailed || !strings.Contains(stderr, "LOGIN: NO [AUTHENTICATIONFAILED]") || strings.Contains(stderr, "wrong") {
		t.Errorf("bad password: exit %d, stderr %q; want %d and the NO without the password", code, stderr, exitFailed)
	}
}

func TestIMAPBadCommandLine(t *testing.T) {
	login := []string{"--addr", "127.0.0.1:143", "--user", "u", "--password", "p"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing flags", []string{"imap"}, `required flag(s) "addr", "password", "user" not set`},
		{"both tls", append([]string{"imap", "--tls", "--starttls"}, login...), "--tls and --starttls exclude each other"},
		{"insecure alone", append([]string{"imap", "--insecure"}, login...), "--insecure only applies"},
		{"unknown op", append([]string{"imap", "--ops", "select,frobnicate"}, login...), `unknown operation "frobnicate"`},
		{"no connections", append([]string{"imap", "--connections", "0"}, login...), "--connections 0"},
		{"idle without process", append([]string{"imap", "--idle", "10"}, login...), "--pid or --pids-of"},
		{"both processes", append([]string{"imap", "--idle", "10", "--pid", "1", "--pids-of", "imap"}, login...), "--pid or --pids-of"},
		{"pid without idle", append([]string{"imap", "--pid", "1"}, login...), "only apply with --idle"},
		{"non-ASCII term", append([]string{"imap", "--body-term", "grüße"}, login...), "--body-term"},
		{"fill without target", []string{"fill", "--count", "1"}, "give --maildir or --addr"},
		{"fill with both", []string{"fill", "--count", "1", "--maildir", "x", "--addr", "127.0.0.1:143"}, "not both"},
		{"fill no count", []string{"fill", "--maildir", "x"}, `required flag(s) "count" not set`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runArgs(t, tt.args...)
			if code != exitUsage || stdout != "" {
				t.Errorf("exit %d, stdout %q; want %d and nothing", code, stdout, exitUsage)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr %q, want one line with %q", stderr, tt.want)
			}
		})
	}
}

func TestReadResponse(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		io.WriteString(server, "* 1 FETCH (BODY[] {12}\r\nab\r\n{3}\r\ncd} UID 7)\r\n"+
			"* 2 FETCH (BODY[HEADER] {0}\r\n BODY[TEXT] {2+}\r\nxy)\r\n"+
			"* OK "+strings.Repeat("long ", 30000)+"\r\n"+
			"a1 OK {not a literal}\r\n")
	}()
	c := newIMAPConn(client, time.Second)
	for _, want := range []string{
		"* 1 FETCH (BODY[] {12}\r\nab\r\n{3}\r\ncd} UID 7)\r\n",
		"* 2 FETCH (BODY[HEADER] {0}\r\n BODY[TEXT] {2+}\r\nxy)\r\n",
		"* OK " + strings.Repeat("long ", 30000) + "\r\n",
		"a1 OK {not a literal}\r\n",
	} {
		got, err := c.readResponse()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("response %.80q, want %.80q", got, want)
		}
	}
	if _, err := c.readResponse(); err != io.ErrUnexpectedEOF {
		t.Errorf("at the end: %v, want %v", err, io.ErrUnexpectedEOF)
	}
}

// writeProcess writes a fake proc(5) entry: comm and smaps_rollup.
func writeProcess(t *testing.T, root string, pid int, name string, rssKiB, pssKiB int) {
	t.Helper()
	dir := filepath.Join(root, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Error(err)
		return
	}
	rollup := fmt.Sprintf("55d0c0a00000-7ffc6b5f9000 ---p 00000000 00:00 0 [rollup]\nRss: %d kB\nPss: %d kB\nPss_Anon: 1 kB\n", rssKiB, pssKiB)
	for file, text := range map[string]string{"comm": name + "\n", "smaps_rollup": rollup} {
		// Written aside and renamed: the measurement may read it meanwhile.
		if err := os.WriteFile(filepath.Join(dir, file+".new"), []byte(text), 0o600); err != nil {
			t.Error(err)
		}
		if err := os.Rename(filepath.Join(dir, file+".new"), filepath.Join(dir, file)); err != nil {
			t.Error(err)
		}
	}
}

// TestIdleProcessPerSession: a server with a process per session (like Dovecot), measured
// with --pids-of; each idle session adds a process of 1,000 KiB RSS and 300 KiB PSS.
func TestIdleProcessPerSession(t *testing.T) {
	root := t.TempDir()
	writeProcess(t, root, 10, "imap-login", 5000, 5000) // another name: not counted
	writeProcess(t, root, 11, "imap", 2000, 700)        // a session that was there before
	f := startFakeIMAP(t, [][]byte{[]byte("m1\r\n")})
	f.onIdle = func(session int) { writeProcess(t, root, 1000+session, "imap", 1000, 300) }
	cfg := testIMAPConfig(f.addr)
	cfg.Idle = idleConfig{Connections: 20, PIDsOf: []string{"imap"}, ProcRoot: root}
	rep, err := runIdle(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	// The warm-up sessions logged out without idling: only the 20 idle ones have processes.
	if rep.Before.Processes != 1 || rep.After.Processes != 21 || rep.RSSPerConnectionKiB != 1000 || rep.PSSPerConnectionKiB != 300 {
		t.Errorf("report %+v", rep)
	}
	var text bytes.Buffer
	if err := rep.report(&text, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"idle_connections        20\n", "processes               1 -> 21\n", "rss_per_connection_kib  1000.0\n", "pss_per_connection_kib  300.0\n"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, text.String())
		}
	}
	commands := f.recorded()
	if n := countPrefix(commands, "IDLE"); n != 20 {
		t.Errorf("%d IDLE commands, want 20", n)
	}
	if n := countPrefix(commands, "LOGOUT"); n != 24 {
		t.Errorf("%d LOGOUT commands, want 24 (20 and 4 warm-up)", n)
	}
}

// TestIdleOneProcess: a one-process Go server measured with --pid and --metrics, whose
// resident memory grows by 40 KiB and whose live heap by 20 KiB with each idle session.
func TestIdleOneProcess(t *testing.T) {
	root := t.TempDir()
	var mu sync.Mutex
	rss, heap := 50000, 3<<20
	gcEvery := true // whether each metrics request finds a collection just done
	writeProcess(t, root, 42, "posthorn", rss, rss)
	f := startFakeIMAP(t, [][]byte{[]byte("m1\r\n")})
	f.onIdle = func(int) {
		mu.Lock()
		defer mu.Unlock()
		rss += 40
		heap += 20 << 10
		writeProcess(t, root, 42, "posthorn", rss, rss)
	}
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		lastGC := time.Now().Add(-time.Hour)
		if gcEvery {
			lastGC = time.Now()
		}
		fmt.Fprintf(w, "# TYPE go_memstats_heap_alloc_bytes gauge\ngo_memstats_heap_alloc_bytes %d\n", heap)
		fmt.Fprintf(w, "go_memstats_stack_inuse_bytes 1.048576e+06\ngo_memstats_last_gc_time_seconds %.9f\n", float64(lastGC.UnixNano())/1e9)
		fmt.Fprintf(w, "go_info{version=\"go1.26\"} 1\n")
	}))
	defer metrics.Close()
	cfg := testIMAPConfig(f.addr)
	cfg.Idle = idleConfig{Connections: 10, PID: 42, ProcRoot: root, MetricsURL: metrics.URL + "/metrics", GCWait: time.Minute}
	rep, err := runIdle(context.Background(), &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Before.Processes != 1 || rep.RSSPerConnectionKiB != 40 || rep.PSSPerConnectionKiB != 40 || rep.Messages != 1 ||
		rep.GoLivePerConnectionKiB != 20 || rep.Before.GoLive != 4<<20 {
		t.Errorf("report %+v", rep)
	}
	var text bytes.Buffer
	if err := rep.report(&text, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "go_live_per_conn_kib    20.0\n") {
		t.Errorf("report:\n%s", text.String())
	}

	mu.Lock()
	gcEvery = false
	mu.Unlock()
	cfg.Idle.GCWait = 1500 * time.Millisecond
	if _, err := runIdle(context.Background(), &cfg); err == nil || !strings.Contains(err.Error(), "no garbage collection within 1.5s") {
		t.Errorf("a server that does not collect: %v", err)
	}
	cfg.Idle.MetricsURL, cfg.Idle.PID = "", 43
	if _, err := runIdle(context.Background(), &cfg); err == nil || !strings.Contains(err.Error(), "memory of process 43") {
		t.Errorf("a process that does not exist: %v", err)
	}
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}
