package pop3server

import "strings"

// command is one parsed command line.
type command struct {
	name string   // the keyword, upper case
	args []string // the arguments; PASS has one, the rest of the line
}

// commandSpec says where a command is valid, how many arguments it takes and what runs it.
type commandSpec struct {
	states           state
	minArgs, maxArgs int
	// restOfLine makes the whole rest of the line one argument, spaces included: RFC 1939 §7
	// allows it for PASS, so a password may contain spaces.
	restOfLine bool
	run        func(s *session, args []string) error
	usage      string
}

var commands map[string]commandSpec

func init() {
	auth, trans, both := stateAuthorization, stateTransaction, stateAuthorization|stateTransaction
	commands = map[string]commandSpec{
		"CAPA": {states: both, run: (*session).cmdCapa, usage: "CAPA"},
		"QUIT": {states: both, run: (*session).cmdQuit, usage: "QUIT"},
		"STLS": {states: auth, run: (*session).cmdSTLS, usage: "STLS"},
		"USER": {states: auth, minArgs: 1, maxArgs: 1, run: (*session).cmdUser, usage: "USER name"},
		"PASS": {states: auth, minArgs: 1, maxArgs: 1, restOfLine: true, run: (*session).cmdPass, usage: "PASS password"},
		"AUTH": {states: auth, maxArgs: 2, run: (*session).cmdAuth, usage: "AUTH mechanism [initial-response]"},
		"STAT": {states: trans, run: (*session).cmdStat, usage: "STAT"},
		"LIST": {states: trans, maxArgs: 1, run: (*session).cmdList, usage: "LIST [msg]"},
		"UIDL": {states: trans, maxArgs: 1, run: (*session).cmdUidl, usage: "UIDL [msg]"},
		"RETR": {states: trans, minArgs: 1, maxArgs: 1, run: (*session).cmdRetr, usage: "RETR msg"},
		"TOP":  {states: trans, minArgs: 2, maxArgs: 2, run: (*session).cmdTop, usage: "TOP msg lines"},
		"DELE": {states: trans, minArgs: 1, maxArgs: 1, run: (*session).cmdDele, usage: "DELE msg"},
		"RSET": {states: trans, run: (*session).cmdRset, usage: "RSET"},
		"NOOP": {states: trans, run: (*session).cmdNoop, usage: "NOOP"},
	}
}

// parseCommand parses a command line without its line end (RFC 1939 §3: a case-insensitive
// keyword, then arguments separated by spaces). It is lenient where clients differ: several
// spaces or a trailing space separate nothing more. It refuses unknown keywords, a wrong
// number of arguments, and control characters.
func parseCommand(line string) (command, error) {
	for i := 0; i < len(line); i++ {
		if c := line[i]; c < ' ' && c != '\t' || c == 0x7f {
			return command{}, badf("invalid character in command")
		}
	}
	keyword, rest, _ := strings.Cut(line, " ")
	name := strings.ToUpper(keyword)
	spec, ok := commands[name]
	if !ok {
		if keyword == "" {
			return command{}, badf("empty command")
		}
		return command{}, badf("unknown command")
	}
	c := command{name: name}
	if spec.restOfLine {
		if !strings.Contains(line, " ") {
			return c, badf("usage: %s", spec.usage)
		}
		c.args = []string{rest}
		return c, nil
	}
	c.args = strings.Fields(rest)
	if len(c.args) < spec.minArgs || len(c.args) > spec.maxArgs {
		return c, badf("usage: %s", spec.usage)
	}
	return c, nil
}

// parseNumber parses a message number or a line count: decimal digits only (RFC 1939 §3). A
// number too large to matter saturates at about 10^9: no such message, or every line.
func parseNumber(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n < 100_000_000 {
			n = n*10 + int(c-'0')
		}
	}
	return n, true
}
