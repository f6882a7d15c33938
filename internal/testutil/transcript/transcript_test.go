package transcript

import (
	"strings"
	"testing"
)

// echoConn answers each line written with the line in upper case, and records the writes. A
// line ending in "+" goes on with the next one in one reply, as IMAP literals do.
type echoConn struct {
	writes  []string
	replies []string
}

func (c *echoConn) Write(text string) {
	c.writes = append(c.writes, text)
	reply := ""
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		reply += strings.ToUpper(line)
		if strings.HasSuffix(line, "+") {
			reply += "\r\n"
			continue
		}
		c.replies = append(c.replies, reply)
		reply = ""
	}
}

func (c *echoConn) ReadLine() string {
	line := c.replies[0]
	c.replies = c.replies[1:]
	return line
}

// TestRun: consecutive C lines of one connection go in one write, a directive or another
// connection's line ends the write, S matches patterns (continued by S+), E exact lines.
func TestRun(t *testing.T) {
	conns := map[string]*echoConn{}
	var directives []Directive
	Run(t, `# two connections
!open
!open 2 extra words
C: a one
C: a two
C2: b one
S2: B ONE
S: A ...
E: A TWO
C: multi+
C: line
S: MULTI+
S+ L...

!note some text
`, func(d Directive, c map[string]*echoConn) {
		directives = append(directives, d)
		if d.Name == "open" {
			c[d.Conn()] = &echoConn{}
			conns[d.Conn()] = c[d.Conn()]
		}
	})
	if got := strings.Join(conns["1"].writes, "|"); got != "a one\r\na two\r\n|multi+\r\nline\r\n" {
		t.Errorf("writes on 1: %q", got)
	}
	if got := strings.Join(conns["2"].writes, "|"); got != "b one\r\n" {
		t.Errorf("writes on 2: %q", got)
	}
	if len(directives) != 3 || directives[1].Line != 3 || directives[1].Rest != "2 extra words" ||
		len(directives[1].Args) != 3 || directives[2].Name != "note" || directives[2].Conn() != "some" {
		t.Errorf("directives %+v", directives)
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, line string
		want          bool
	}{
		{"+OK ...", "+OK 3 messages", true},
		{"+OK ...", "-ERR no", false},
		{"a.b", "axb", false},
		{"* 1 FETCH (BODY[] {3}\r\n...)", "* 1 FETCH (BODY[] {3}\r\nabc)", true},
		{"exact", "exact and more", false},
	} {
		if got := Match(c.pattern, c.line); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pattern, c.line, got)
		}
	}
}
