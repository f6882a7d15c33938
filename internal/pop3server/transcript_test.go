package pop3server

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTranscripts runs the protocol transcripts of testdata/transcripts, one per topic. The
// format, line by line:
//
//	# comment
//	!dial [N]                 dial connection N (default 1), read the greeting
//	!login [N] [USER]         dial connection N and log in with USER/PASS as alice (or USER)
//	!deliver COUNT            deliver COUNT test messages (testMessage 1...COUNT) to alice's INBOX
//	!deliver-text "TEXT"      deliver one message to alice's INBOX, TEXT a Go string literal
//	!closed [N]               the server closed connection N
//	C: line   / CN: line      send a line on connection 1 / N (CRLF added); consecutive C
//	                          lines of one connection go in one write (pipelining)
//	S: pattern / SN: pattern  expect a line on connection 1 / N; "..." matches anything
//	E: line   / EN: line      expect exactly this line (for lines with dots)
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			runTranscript(t, newHarness(t), string(data))
		})
	}
}

func runTranscript(t *testing.T, h *harness, script string) {
	conns := map[string]*conn{}
	get := func(n string) *conn {
		c := conns[n]
		if c == nil {
			t.Fatalf("connection %s not dialled", n)
		}
		return c
	}
	// pending holds the C lines not sent yet, for one connection.
	var pending strings.Builder
	pendingConn := ""
	flush := func() {
		if pending.Len() > 0 {
			get(pendingConn).send(pending.String())
			pending.Reset()
		}
	}
	lines := strings.Split(strings.ReplaceAll(script, "\r", ""), "\n")
	for i, line := range lines {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t.Logf("%d: %s", i+1, line)
		if strings.HasPrefix(line, "!") {
			flush()
			directive(t, h, conns, i+1, line[1:])
			continue
		}
		kind, rest, ok := strings.Cut(line, ":")
		if !ok || len(kind) < 1 {
			t.Fatalf("line %d: cannot read %q", i+1, line)
		}
		n := kind[1:]
		if n == "" {
			n = "1"
		}
		rest = strings.TrimPrefix(rest, " ")
		switch kind[0] {
		case 'C':
			if pendingConn != n {
				flush()
				pendingConn = n
			}
			pending.WriteString(rest + "\r\n")
		case 'S':
			flush()
			get(n).expect(rest)
		case 'E':
			flush()
			if got := get(n).readLine(); got != rest {
				t.Fatalf("line %d: got %q, want exactly %q", i+1, got, rest)
			}
		default:
			t.Fatalf("line %d: cannot read %q", i+1, line)
		}
	}
	flush()
}

func directive(t *testing.T, h *harness, conns map[string]*conn, lineNo int, line string) {
	name, rest, _ := strings.Cut(line, " ")
	f := strings.Fields(rest)
	n := "1"
	if len(f) > 0 {
		n = f[0]
	}
	switch name {
	case "dial":
		conns[n] = h.dial()
	case "login":
		if len(f) > 0 {
			f = f[1:] // the user, if any
		}
		conns[n] = h.login(f...)
	case "closed":
		conns[n].expectClosed()
	case "deliver":
		count, err := strconv.Atoi(rest)
		if err != nil {
			t.Fatalf("line %d: %v", lineNo, err)
		}
		for k := 1; k <= count; k++ {
			h.Deliver(h.Alice, "INBOX", testMessage(k))
		}
	case "deliver-text":
		text, err := strconv.Unquote(rest)
		if err != nil {
			t.Fatalf("line %d: %v", lineNo, err)
		}
		h.Deliver(h.Alice, "INBOX", text)
	default:
		t.Fatalf("line %d: unknown directive %s", lineNo, name)
	}
}
