package imapserver

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// The parser of imaptest's script format (imaptest's src/test-parser.c, docs/scripted_test.md)
// and of its .mbox inputs (src/mailbox-source-mbox.c). See imaptest_test.go.

// itScript is one parsed script.
type itScript struct {
	name        string
	caps        []string // capabilities the server must advertise, else the script is skipped
	connections int
	messages    int            // messages appended at startup; -1 for the whole mbox
	state       string         // nonauth, auth, created, appended or selected
	ignoreExtra bool           // untagged replies that match no expectation are fine
	users       map[int]string // "user N:" headers: the login of connection N
	groups      []*itGroup
	hasLogout   bool
}

// itGroup is a command, or commands pipelined on one connection, with the untagged replies
// expected while they run.
type itGroup struct {
	conn     int // 0-based
	cmds     []*itCommand
	untagged []*itUntagged
	ordered  bool // !ordered: the untagged replies come in the order listed
	sleep    time.Duration
	pending  int // commands whose tagged reply is not yet parsed
	bye      bool
}

type itCommand struct {
	source string // the script's line
	line   int
	tag    int    // the script's tagN, 0 for none
	text   string // the command, literals inline as {n}CRLF<octets>
	reply  []itArg
	// replyText is the script line of the expected tagged reply, for reports.
	replyText string
}

// itExistence is what an expected untagged line says: "*" must come, "!" must not, "?" may.
type itExistence int

const (
	itMust itExistence = iota
	itMustNot
	itMay
)

type itUntagged struct {
	line  int
	text  string // the script's line
	args  []itArg
	exist itExistence
}

// parseITScript reads a script. The format:
//
//	header lines "key: value" (capabilities, connections, messages, state,
//	ignore_extra_untagged, user N), a blank line, then commands:
//
//	[conn] [tagN] ok|no|bad|"" command     a command and its expected status (method 1)
//	[conn] [tagN] command                  a command whose status follows (methods 2, 3)
//	[conn] [tagN] ok|no|bad|"" [prefix]    the expected status, after its untagged replies
//	* reply / ! reply / ? reply            an untagged reply that must / must not / may come
//	!ordered, !sleep, !output, !ifenv ...  directives
//
// A line ending with "{{{" (or "~{{{" for binary) starts a literal that ends at a line
// starting with "}}}": the lines in between, each ended by CRLF (by LF in a binary literal,
// where a CR before the LF stays), without the last line end, become {n}CRLF<octets>.
func parseITScript(path, name string) (*itScript, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sc := &itScript{name: name, connections: 1, state: "selected", ignoreExtra: true}
	p := &itScriptParser{sc: sc}
	lines, err := joinITLiterals(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	header := true
	for _, l := range lines {
		if !l.literal {
			if l.text == "" {
				header = false
				continue
			}
			if strings.HasPrefix(l.text, "#") {
				continue
			}
		}
		if header {
			err = p.header(l.text)
		} else {
			err = p.command(l.num, l.text)
		}
		if err != nil {
			return nil, fmt.Errorf("%s line %d: %w", name, l.num, err)
		}
	}
	if p.group == nil {
		return nil, fmt.Errorf("%s: no commands", name)
	}
	if p.group.pending > 0 {
		return nil, fmt.Errorf("%s: the last command has no expected reply", name)
	}
	if len(p.ifenv) > 0 {
		return nil, fmt.Errorf("%s: !ifenv without !endif", name)
	}
	for _, g := range sc.groups {
		for _, c := range g.cmds {
			if strings.EqualFold(c.text, "logout") || g.bye {
				sc.hasLogout = true
			}
		}
	}
	return sc, nil
}

type itLine struct {
	num     int
	text    string
	literal bool // the line holds a {{{ literal
}

// joinITLiterals splits a script into lines, with {{{ ... }}} literals joined into the line
// that starts them.
func joinITLiterals(raw []byte) ([]itLine, error) {
	var out []itLine
	lines := bytes.SplitAfter(raw, []byte("\n"))
	var multi []byte
	var startPos, lastEnd, startNum int
	continues, binary := false, false
	for i, lb := range lines {
		if len(lb) == 0 {
			continue
		}
		// Inside a literal a line keeps its CR, if any: imaptest reads the script up to each
		// LF, and ends a line with CRLF, or with LF in a binary literal.
		raw := string(bytes.TrimSuffix(lb, []byte("\n")))
		line := strings.TrimSuffix(raw, "\r")
		num := i + 1
		if continues {
			if !strings.HasPrefix(line, "}}}") {
				multi = append(multi, raw...)
				lastEnd = len(multi)
				if binary {
					multi = append(multi, '\n')
				} else {
					multi = append(multi, "\r\n"...)
				}
				continue
			}
			multi = multi[:lastEnd]
			n := len(multi) - startPos
			marker := fmt.Sprintf("{%d}\r\n", n)
			if binary {
				marker = "~" + marker
			}
			multi = append(multi[:startPos], append([]byte(marker), multi[startPos:]...)...)
			rest := line[3:]
			if strings.HasSuffix(rest, "{{{") {
				binary = strings.HasSuffix(rest, "~{{{")
				rest = strings.TrimSuffix(strings.TrimSuffix(rest, "{{{"), "~")
				multi = append(multi, rest...)
				startPos, lastEnd = len(multi), len(multi)
				continue
			}
			multi = append(multi, rest...)
			out = append(out, itLine{num: startNum, text: string(multi), literal: true})
			continues = false
			continue
		}
		if strings.HasSuffix(line, "{{{") && !strings.HasPrefix(line, "#") {
			binary = strings.HasSuffix(line, "~{{{")
			multi = []byte(strings.TrimSuffix(strings.TrimSuffix(line, "{{{"), "~"))
			startPos, lastEnd, startNum = len(multi), len(multi), num
			continues = true
			continue
		}
		out = append(out, itLine{num: num, text: line})
	}
	if continues {
		return nil, fmt.Errorf("the literal of line %d does not end", startNum)
	}
	return out, nil
}

type itScriptParser struct {
	sc    *itScript
	group *itGroup
	ifenv []bool // the skip state outside each open !ifenv
	skip  bool
}

func (p *itScriptParser) header(line string) error {
	key, value, ok := strings.Cut(line, ":")
	if !ok {
		return fmt.Errorf("missing ':' in header %q", line)
	}
	key = strings.ToLower(strings.TrimSpace(key))
	value = strings.TrimSpace(value)
	switch key {
	case "capabilities":
		p.sc.caps = strings.Fields(value)
	case "connections":
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 100 {
			return fmt.Errorf("bad connections %q", value)
		}
		p.sc.connections = n
	case "messages":
		if value == "all" {
			p.sc.messages = -1
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("bad messages %q", value)
		}
		p.sc.messages = n
	case "state":
		switch v := strings.ToLower(value); v {
		case "nonauth", "auth", "created", "appended", "selected":
			p.sc.state = v
		default:
			return fmt.Errorf("unknown state %q", value)
		}
	case "ignore_extra_untagged":
		p.sc.ignoreExtra = strings.HasPrefix(value, "y")
	default:
		if n, ok := strings.CutPrefix(key, "user "); ok {
			if i, err := strconv.Atoi(n); err == nil && i > 0 && i <= 100 {
				if p.sc.users == nil {
					p.sc.users = map[int]string{}
				}
				p.sc.users[i] = value
				return nil
			}
		}
		return fmt.Errorf("unknown header %q", key)
	}
	return nil
}

// statusReply reads an optional "tagN" and then ok/no/bad/"" at the start of line. It returns
// the reply word ("" for none), the tag number and the rest of the line.
func statusReply(line string) (reply string, tag int, rest string) {
	word, after, _ := strings.Cut(line, " ")
	if len(word) > 3 && strings.EqualFold(word[:3], "tag") {
		if n, err := strconv.Atoi(word[3:]); err == nil && n > 0 && strings.Contains(line, " ") {
			tag, line = n, after
			word, after, _ = strings.Cut(line, " ")
		}
	}
	switch strings.ToLower(word) {
	case "ok", "no", "bad", `""`:
		return strings.ToLower(word), tag, after
	}
	return "", tag, line
}

func replyArgs(word string) []itArg {
	if word == `""` {
		word = ""
	}
	return []itArg{{kind: itAtom, s: word}}
}

func itExistenceOf(line string) (itExistence, bool) {
	switch {
	case strings.HasPrefix(line, "* "):
		return itMust, true
	case strings.HasPrefix(line, "! "):
		return itMustNot, true
	case strings.HasPrefix(line, "? "):
		return itMay, true
	}
	return 0, false
}

// connPrefix splits "N rest" when the script uses several connections.
func (p *itScriptParser) connPrefix(line string) (int, string, bool) {
	if p.sc.connections <= 1 {
		return 0, line, true
	}
	word, rest, _ := strings.Cut(line, " ")
	n, err := strconv.Atoi(word)
	if err != nil || n < 1 {
		return 0, line, false
	}
	return n, rest, true
}

func (p *itScriptParser) command(num int, line string) error {
	switch {
	case strings.HasPrefix(line, "!ifenv "), strings.HasPrefix(line, "!ifnenv "):
		name := line[strings.IndexByte(line, ' ')+1:]
		_, set := os.LookupEnv(name)
		p.ifenv = append(p.ifenv, p.skip)
		if set != strings.HasPrefix(line, "!ifenv ") {
			p.skip = true
		}
		return nil
	case line == "!else":
		if len(p.ifenv) == 0 {
			return fmt.Errorf("!else without !ifenv")
		}
		if !p.ifenv[len(p.ifenv)-1] {
			p.skip = !p.skip
		}
		return nil
	case line == "!endif":
		if len(p.ifenv) == 0 {
			return fmt.Errorf("!endif without !ifenv")
		}
		p.skip = p.ifenv[len(p.ifenv)-1]
		p.ifenv = p.ifenv[:len(p.ifenv)-1]
		return nil
	}
	if p.skip {
		return nil
	}
	g := p.group
	if g != nil {
		switch {
		case strings.HasPrefix(line, "!sleep "):
			d, err := time.ParseDuration(strings.TrimSpace(line[len("!sleep "):]))
			if err != nil {
				return fmt.Errorf("bad !sleep: %w", err)
			}
			g.sleep = d
			return nil
		case strings.HasPrefix(line, "!output "):
			return nil // imaptest prints it; nothing to check
		case line == "!ordered":
			g.ordered = true
			return nil
		}
		if exist, ok := itExistenceOf(line); ok {
			return p.untagged(num, line, exist)
		}
		if g.pending > 0 {
			conn, rest, ok := p.connPrefix(line)
			if reply, tag, after := statusReply(rest); reply != "" {
				if p.sc.connections > 1 {
					if !ok || conn == 0 {
						return fmt.Errorf("missing connection number")
					}
					if conn-1 != g.conn {
						return fmt.Errorf("reply for another connection")
					}
				}
				return p.finish(tag, reply, after, rest)
			}
		}
	}
	if g == nil || g.pending == 0 {
		g = &itGroup{}
		p.group = g
		p.sc.groups = append(p.sc.groups, g)
	}
	cmd := &itCommand{line: num, source: line}
	if p.sc.connections > 1 {
		conn, rest, ok := p.connPrefix(line)
		if !ok {
			return fmt.Errorf("missing connection number")
		}
		if len(g.cmds) > 0 && g.conn != conn-1 {
			return fmt.Errorf("pipelined commands must use one connection")
		}
		g.conn = conn - 1
		line = rest
	}
	reply, tag, rest := statusReply(line)
	cmd.tag = tag
	if tag == 0 && g.pending > 0 {
		return fmt.Errorf("missing reply of the command before")
	}
	for _, c := range g.cmds {
		if tag != 0 && c.tag == tag {
			return fmt.Errorf("tag%d used twice in a group", tag)
		}
	}
	if len(g.cmds) == 0 {
		if _, ok := itExistenceOf(rest); ok {
			return fmt.Errorf("banner checks are not supported")
		}
	}
	if reply != "" {
		cmd.reply = replyArgs(reply)
		cmd.replyText = reply
	} else {
		g.pending++
	}
	cmd.text = rest
	g.cmds = append(g.cmds, cmd)
	return nil
}

// finish records the expected tagged reply of a command of the current group.
func (p *itScriptParser) finish(tag int, reply, after, line string) error {
	g := p.group
	var cmd *itCommand
	for _, c := range g.cmds {
		if c.tag == tag {
			cmd = c
		}
	}
	if cmd == nil {
		return fmt.Errorf("reply for an unknown tag")
	}
	if cmd.reply != nil {
		return fmt.Errorf("the command has a reply already")
	}
	args, err := parseITArgs(line)
	if err != nil {
		return err
	}
	if tag != 0 {
		args = args[1:]
	}
	if len(args) > 0 && args[0].kind == itString && args[0].s == "" {
		args[0] = itArg{kind: itAtom, s: ""} // "" matches any status
	}
	cmd.reply = args
	cmd.replyText = line
	g.pending--
	return nil
}

func (p *itScriptParser) untagged(num int, line string, exist itExistence) error {
	args, err := parseITArgs(line[2:])
	if err != nil {
		return err
	}
	if args, err = addDefaultDirectives(args); err != nil {
		return err
	}
	if len(args) > 0 && args[0].kind == itAtom && strings.EqualFold(args[0].s, "BYE") {
		switch exist {
		case itMust:
			p.group.bye = true
		case itMay:
			return fmt.Errorf("? BYE is not supported")
		}
	}
	p.group.untagged = append(p.group.untagged, &itUntagged{line: num, text: line, args: args, exist: exist})
	return nil
}

// itMbox is the message source of a script: the messages of its .mbox file, handed out in
// turn and from the start again after the last.
type itMbox struct {
	msgs []itMessage
	next int
}

type itMessage struct {
	date time.Time // from the From_ line
	text string    // CRLF line ends
}

// mboxFromLine matches an mbox From_ line: "From sender  Fri Feb 22 17:06:23 2008".
var mboxFromLine = regexp.MustCompile(`^From \S+\s+[A-Z][a-z]{2} ([A-Z][a-z]{2}) +(\d{1,2}) (\d{1,2}):(\d{2}):(\d{2}) (?:[A-Z]{3,5} )?(\d{4})`)

// readITMbox splits an mbox file into messages at its From_ lines. A message is what lies
// between two From_ lines, the blank line before the next one included (as imaptest appends
// it), with bare LFs made CRLF.
func readITMbox(path string) (*itMbox, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	mb := &itMbox{}
	var cur *itMessage
	var body strings.Builder
	flush := func() {
		if cur != nil {
			cur.text = body.String()
			mb.msgs = append(mb.msgs, *cur)
		}
		body.Reset()
	}
	for _, lb := range bytes.SplitAfter(raw, []byte("\n")) {
		if len(lb) == 0 {
			continue
		}
		line := string(bytes.TrimSuffix(bytes.TrimSuffix(lb, []byte("\n")), []byte("\r")))
		if m := mboxFromLine.FindStringSubmatch(line); m != nil {
			if cur != nil && body.Len() == 0 {
				continue // an empty body: this From_ line is its text
			}
			flush()
			date, err := time.Parse("Jan 2 15:04:05 2006", fmt.Sprintf("%s %s %s:%s:%s %s", m[1], m[2], m[3], m[4], m[5], m[6]))
			if err != nil {
				return nil, fmt.Errorf("%s: From_ line %q: %w", path, line, err)
			}
			cur = &itMessage{date: date}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s: no From_ line first", path)
		}
		body.WriteString(line)
		body.WriteString("\r\n")
	}
	flush()
	if len(mb.msgs) == 0 {
		return nil, fmt.Errorf("%s: no messages", path)
	}
	return mb, nil
}

// take returns the next message.
func (mb *itMbox) take() itMessage {
	m := mb.msgs[mb.next]
	mb.next = (mb.next + 1) % len(mb.msgs)
	return m
}
