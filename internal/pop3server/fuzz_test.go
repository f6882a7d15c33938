package pop3server

import (
	"strings"
	"testing"
)

// FuzzParseCommand feeds arbitrary lines to the command parser and the number parser: they
// must never panic; a command they accept is known, its arguments within its arity and free of
// control characters. The seed corpus is in testdata/fuzz/FuzzParseCommand.
func FuzzParseCommand(f *testing.F) {
	f.Add("USER alice@example.org")
	f.Add("TOP 1 10")
	f.Fuzz(func(t *testing.T, line string) {
		c, err := parseCommand(line)
		if err != nil {
			if _, ok := err.(*errReply); !ok {
				t.Fatalf("%q: error %v is not a reply", line, err)
			}
			return
		}
		spec, ok := commands[c.name]
		if !ok {
			t.Fatalf("%q: unknown command %q accepted", line, c.name)
		}
		if len(c.args) < spec.minArgs || len(c.args) > spec.maxArgs {
			t.Fatalf("%q: %d arguments for %s", line, len(c.args), c.name)
		}
		for _, a := range c.args {
			if strings.ContainsAny(a, "\x00\r\n") {
				t.Fatalf("%q: argument %q has a control character", line, a)
			}
			if n, ok := parseNumber(a); ok && n < 0 {
				t.Fatalf("%q: negative number %d", line, n)
			}
		}
	})
}
