package imapserver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTranscripts runs the protocol transcripts of testdata/transcripts, one per command or
// topic. The format, line by line:
//
//	# comment
//	!login [N]                    dial connection N (default 1) and log in as alice
//	!dial [N]                     dial connection N, no login
//	!deliver MAILBOX COUNT [FLAG] deliver COUNT test messages (testMessage) to alice's MAILBOX
//	!quota BYTES                  set alice's storage quota (0: none)
//	C: line      / CN: line       send a line on connection 1 / N (CRLF added)
//	S: pattern   / SN: pattern    expect a line on connection 1 / N; "..." matches anything
//	S+ text                       continue the pattern before: CRLF, then text
//
// Literals sent by the client are written as they go on the wire: the line ends with {n} and
// the next C: lines hold the octets. A server's literal is read into its response line, so
// the pattern of a response with literals goes on with S+ lines.
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
	lines := strings.Split(strings.ReplaceAll(script, "\r", ""), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t.Logf("%d: %s", i+1, line)
		if strings.HasPrefix(line, "!") {
			f := strings.Fields(line[1:])
			n := "1"
			if len(f) > 1 {
				n = f[1]
			}
			switch f[0] {
			case "login":
				conns[n] = h.login()
			case "dial":
				conns[n] = h.dial()
			case "deliver":
				count, _ := strconv.Atoi(f[2])
				for k := 1; k <= count; k++ {
					h.deliver(h.alice, f[1], testMessage(k), f[3:]...)
				}
			case "quota":
				bytes, _ := strconv.ParseInt(f[1], 10, 64)
				if err := h.store.SetQuota(t.Context(), h.alice.Address, bytes); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("line %d: unknown directive %s", i+1, f[0])
			}
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
			get(n).send(rest)
		case 'S':
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "S+ ") {
				i++
				rest += "\r\n" + lines[i][3:]
			}
			get(n).expect(rest)
		default:
			t.Fatalf("line %d: cannot read %q", i+1, line)
		}
	}
}
