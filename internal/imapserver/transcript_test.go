package imapserver

import (
	"strconv"
	"testing"

	"posthorn/internal/testutil/transcript"
)

// TestTranscripts runs the protocol transcripts of testdata/transcripts, one per command or
// topic, in the format of package transcript. The directives:
//
//	!login [N]                    dial connection N (default 1) and log in as alice
//	!dial [N]                     dial connection N, no login
//	!deliver MAILBOX COUNT [FLAG] deliver COUNT test messages (testMessage) to alice's MAILBOX
//	!quota BYTES                  set alice's storage quota (0: none)
//
// Literals sent by the client are written as they go on the wire: the line ends with {n} and
// the next C: lines hold the octets. A server's literal is read into its response line, so
// the pattern of a response with literals goes on with S+ lines.
func TestTranscripts(t *testing.T) {
	transcript.RunFiles(t, "testdata/transcripts/*.txt", func(t *testing.T, script string) {
		runTranscript(t, newHarness(t), script)
	})
}

func runTranscript(t *testing.T, h *harness, script string) {
	transcript.Run(t, script, func(d transcript.Directive, conns map[string]transcriptConn) {
		switch d.Name {
		case "login":
			conns[d.Conn()] = transcriptConn{h.login()}
		case "dial":
			conns[d.Conn()] = transcriptConn{h.dial()}
		case "deliver":
			count, _ := strconv.Atoi(d.Args[1])
			for k := 1; k <= count; k++ {
				h.deliver(h.alice, d.Args[0], testMessage(k), d.Args[2:]...)
			}
		case "quota":
			bytes, _ := strconv.ParseInt(d.Args[0], 10, 64)
			if err := h.store.SetQuota(t.Context(), h.alice.Address, bytes); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("line %d: unknown directive %s", d.Line, d.Name)
		}
	})
}

// transcriptConn is a conn as package transcript drives it.
type transcriptConn struct{ *conn }

func (c transcriptConn) Write(text string) { c.sendRaw(text) }
func (c transcriptConn) ReadLine() string  { return c.readLine() }
