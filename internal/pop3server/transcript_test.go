package pop3server

import (
	"strconv"
	"testing"

	"posthorn/internal/testutil/transcript"
)

// TestTranscripts runs the protocol transcripts of testdata/transcripts, one per topic, in
// the format of package transcript. The directives:
//
//	!dial [N]                 dial connection N (default 1), read the greeting
//	!login [N] [USER]         dial connection N and log in with USER/PASS as alice (or USER)
//	!deliver COUNT            deliver COUNT test messages (testMessage 1...COUNT) to alice's INBOX
//	!deliver-text "TEXT"      deliver one message to alice's INBOX, TEXT a Go string literal
//	!closed [N]               the server closed connection N
func TestTranscripts(t *testing.T) {
	transcript.RunFiles(t, "testdata/transcripts/*.txt", func(t *testing.T, script string) {
		runTranscript(t, newHarness(t), script)
	})
}

func runTranscript(t *testing.T, h *harness, script string) {
	transcript.Run(t, script, func(d transcript.Directive, conns map[string]transcriptConn) {
		switch d.Name {
		case "dial":
			conns[d.Conn()] = transcriptConn{h.dial()}
		case "login":
			var user []string
			if len(d.Args) > 1 {
				user = d.Args[1:]
			}
			conns[d.Conn()] = transcriptConn{h.login(user...)}
		case "closed":
			conns[d.Conn()].expectClosed()
		case "deliver":
			count, err := strconv.Atoi(d.Rest)
			if err != nil {
				t.Fatalf("line %d: %v", d.Line, err)
			}
			for k := 1; k <= count; k++ {
				h.Deliver(h.Alice, "INBOX", testMessage(k))
			}
		case "deliver-text":
			text, err := strconv.Unquote(d.Rest)
			if err != nil {
				t.Fatalf("line %d: %v", d.Line, err)
			}
			h.Deliver(h.Alice, "INBOX", text)
		default:
			t.Fatalf("line %d: unknown directive %s", d.Line, d.Name)
		}
	})
}

// transcriptConn is a conn as package transcript drives it.
type transcriptConn struct{ *conn }

func (c transcriptConn) Write(text string) { c.send(text) }
func (c transcriptConn) ReadLine() string  { return c.readLine() }
