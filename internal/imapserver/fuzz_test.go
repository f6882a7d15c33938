package imapserver

import (
	"strings"
	"testing"
)

// FuzzParseCommand feeds arbitrary bytes to the command parser as a session would: it must
// never panic, and every command must end in a parse result or a protocol error. The seed
// corpus is in testdata/fuzz/FuzzParseCommand.
func FuzzParseCommand(f *testing.F) {
	f.Add("a1 NOOP\r\n")
	f.Add("a1 UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From)]<0.10>) (CHANGEDSINCE 1)\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		results, _, err := parseStream(in)
		if err != nil && !strings.Contains(err.Error(), "EOF") {
			t.Fatalf("%q: %v", in, err)
		}
		for _, r := range results {
			if r == "" {
				t.Fatalf("%q: empty result", in)
			}
		}
	})
}
