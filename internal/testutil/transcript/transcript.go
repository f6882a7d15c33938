// Package transcript runs protocol transcripts for the tests of the line-based servers (IMAP,
// POP3): scripts of lines a client sends and the lines it expects back, over one or more
// connections. The protocol is the caller's: it says how a connection reads a response line
// and what the "!" directives do (dial, log in, deliver a message).
//
// A script, line by line:
//
//	# comment                 ignored, as are empty lines
//	!name args...             a directive, run by the caller
//	C: line   / CN: line      send a line on connection 1 / N (CRLF added); consecutive C
//	                          lines of one connection go in one write (pipelining)
//	S: pattern / SN: pattern  expect a line on connection 1 / N; "..." matches anything
//	S+ text                   continue the pattern before: CRLF, then text
//	E: line   / EN: line      expect exactly this line (for lines with dots)
package transcript

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Conn is one client connection of a transcript.
type Conn interface {
	// Write sends text as it is: whole lines, each ending in CRLF.
	Write(text string)
	// ReadLine reads one response line without its CRLF; the test fails when none comes.
	ReadLine() string
}

// Directive is one "!" line of a script.
type Directive struct {
	Line int      // its number in the script, from 1
	Name string   // the word after "!"
	Rest string   // what follows the name and a space, as written
	Args []string // Rest split into words
}

// Conn is the connection a directive names with its first argument, "1" without any.
func (d Directive) Conn() string {
	if len(d.Args) > 0 {
		return d.Args[0]
	}
	return "1"
}

// Run runs script. directive runs the "!" lines; it dials connections into conns, under the
// number its lines name them by.
func Run[C Conn](t testing.TB, script string, directive func(d Directive, conns map[string]C)) {
	t.Helper()
	conns := map[string]C{}
	get := func(n string) C {
		c, ok := conns[n]
		if !ok {
			t.Fatalf("connection %s not dialled", n)
		}
		return c
	}
	// pending holds the C lines not sent yet, all of one connection.
	var pending strings.Builder
	pendingConn := ""
	flush := func() {
		if pending.Len() > 0 {
			get(pendingConn).Write(pending.String())
			pending.Reset()
		}
	}
	lines := strings.Split(strings.ReplaceAll(script, "\r", ""), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		t.Logf("%d: %s", i+1, line)
		if strings.HasPrefix(line, "!") {
			flush()
			name, rest, _ := strings.Cut(line[1:], " ")
			directive(Directive{Line: i + 1, Name: name, Rest: rest, Args: strings.Fields(rest)}, conns)
			continue
		}
		kind, rest, ok := strings.Cut(line, ":")
		if !ok || kind == "" {
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
			for i+1 < len(lines) && strings.HasPrefix(lines[i+1], "S+ ") {
				i++
				rest += "\r\n" + lines[i][3:]
			}
			if got := get(n).ReadLine(); !Match(rest, got) {
				t.Fatalf("line %d: got  %q\nwant %q", i+1, got, rest)
			}
		case 'E':
			flush()
			if got := get(n).ReadLine(); got != rest {
				t.Fatalf("line %d: got %q, want exactly %q", i+1, got, rest)
			}
		default:
			t.Fatalf("line %d: cannot read %q", i+1, line)
		}
	}
	flush()
}

// Match reports whether line matches pattern, in which "..." matches anything (line breaks
// included) and everything else only itself.
func Match(pattern, line string) bool {
	return regexp.MustCompile(`^(?s)` + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\.\.\.`, `.*`) + `$`).MatchString(line)
}

// RunFiles runs every file that pattern matches (at least one must) as a parallel subtest
// named after it without ".txt"; run is given the file's text.
func RunFiles(t *testing.T, pattern string, run func(t *testing.T, script string)) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts match %s: %v", pattern, err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			run(t, string(data))
		})
	}
}
