package imapserver

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// The argument model and the matching rules of Dovecot imaptest's scripts (see
// imaptest_test.go): expected replies and server replies are both parsed into itArgs, the way
// imaptest's IMAP parser does it, and compared element by element.

// itKind is the type of one IMAP argument.
type itKind int

const (
	itAtom   itKind = iota
	itString        // quoted string or literal
	itNil
	itList
)

// itArg is one IMAP argument. Like Dovecot's parser, with "all characters allowed in atoms",
// brackets are not special: BODY[HEADER.FIELDS (FROM)] is the atom BODY[HEADER.FIELDS, the
// list (FROM) and the atom "]".
type itArg struct {
	kind    itKind
	s       string
	list    []itArg
	literal bool // a string sent as a literal
}

// astring returns the text of an atom or string.
func (a itArg) astring() (string, bool) {
	return a.s, a.kind == itAtom || a.kind == itString
}

func (a itArg) String() string {
	switch a.kind {
	case itNil:
		return "NIL"
	case itList:
		return "(" + itArgsString(a.list) + ")"
	case itString:
		if strings.ContainsAny(a.s, "\r\n\"\\") || len(a.s) > 60 {
			return fmt.Sprintf("{%d}%q", len(a.s), a.s)
		}
		return `"` + a.s + `"`
	}
	return a.s
}

func itArgsString(args []itArg) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	return strings.Join(parts, " ")
}

// parseITArgs parses a line of IMAP arguments, with its literals ({n}CRLF, {n+}CRLF and ~{n}CRLF
// followed by n octets) inline. It is lenient where a server's human-readable text could
// trip it: a ")" outside a list belongs to an atom, and lists left open at the end are closed.
func parseITArgs(data string) ([]itArg, error) {
	p := &itParser{data: data}
	args, err := p.list(false)
	if err != nil {
		return nil, err
	}
	return args, nil
}

type itParser struct {
	data string
	pos  int
}

func (p *itParser) list(inList bool) ([]itArg, error) {
	var args []itArg
	for {
		for p.pos < len(p.data) && p.data[p.pos] == ' ' {
			p.pos++
		}
		if p.pos >= len(p.data) || p.data[p.pos] == '\r' || p.data[p.pos] == '\n' {
			return args, nil // an open list is closed at the end (lenient)
		}
		switch c := p.data[p.pos]; {
		case c == ')' && inList:
			p.pos++
			return args, nil
		case c == '(':
			p.pos++
			sub, err := p.list(true)
			if err != nil {
				return nil, err
			}
			args = append(args, itArg{kind: itList, list: sub})
		case c == '"':
			s, err := p.quoted()
			if err != nil {
				return nil, err
			}
			args = append(args, itArg{kind: itString, s: s})
		case c == '{' || c == '~' && p.pos+1 < len(p.data) && p.data[p.pos+1] == '{':
			s, ok, err := p.literal()
			if err != nil {
				return nil, err
			}
			if ok {
				args = append(args, itArg{kind: itString, s: s, literal: true})
				continue
			}
			args = append(args, p.atom(inList))
		default:
			args = append(args, p.atom(inList))
		}
	}
}

func (p *itParser) atom(inList bool) itArg {
	start := p.pos
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == ' ' || c == '\r' || c == '\n' || c == ')' && inList {
			break
		}
		p.pos++
	}
	s := p.data[start:p.pos]
	if strings.EqualFold(s, "NIL") {
		return itArg{kind: itNil}
	}
	return itArg{kind: itAtom, s: s}
}

func (p *itParser) quoted() (string, error) {
	p.pos++ // "
	var b strings.Builder
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.pos < len(p.data) {
				b.WriteByte(p.data[p.pos])
				p.pos++
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("unterminated quoted string")
}

// literal reads {n}CRLF<n octets> (or ~{n}, {n+}). ok is false when what starts with "{" is
// not a literal marker after all: it is an atom then.
func (p *itParser) literal() (s string, ok bool, err error) {
	i := p.pos
	if p.data[i] == '~' {
		i++
	}
	i++ // {
	j := i
	for j < len(p.data) && p.data[j] >= '0' && p.data[j] <= '9' {
		j++
	}
	if j == i {
		return "", false, nil
	}
	n, err := strconv.Atoi(p.data[i:j])
	if err != nil {
		return "", false, nil
	}
	if j < len(p.data) && p.data[j] == '+' {
		j++
	}
	if j >= len(p.data) || p.data[j] != '}' {
		return "", false, nil
	}
	j++
	switch {
	case strings.HasPrefix(p.data[j:], "\r\n"):
		j += 2
	case strings.HasPrefix(p.data[j:], "\n"):
		j++
	default:
		return "", false, nil
	}
	if j+n > len(p.data) {
		return "", false, fmt.Errorf("literal of %d octets is cut short", n)
	}
	p.pos = j + n
	return p.data[j : j+n], true, nil
}

// itDirectives are the $! directives at the start of an expected list, and the defaults
// imaptest adds to lists that have none (test-parser.c: test_add_default_directives):
//
//	<seq> FETCH ($!unordered=2)
//	<seq> FETCH (FLAGS ($!unordered $!noextra $!ignore=\Recent ...))
//	LIST|LSUB ($!unordered)
//	STATUS <mailbox> ($!unordered=2)
func addDefaultDirectives(args []itArg) ([]itArg, error) {
	name := ""
	if len(args) > 0 && args[0].kind == itAtom {
		name = args[0].s
		if (strings.HasPrefix(name, "$") || name[0] >= '0' && name[0] <= '9') && len(args) > 1 {
			name = args[1].s
		}
	}
	top := &directiveCtx{name: strings.ToLower(name), chain: 1}
	return top.handle(args)
}

type directiveCtx struct {
	parent   *directiveCtx
	name     string // the reply's name, lower case: fetch, list, ...
	prevAtom string // the atom before this list, lower case
	chainIdx int    // index of this list in its parent (modulo the parent's chain)
	chain    int    // elements per chain ($!unordered=n)
	explicit bool   // the list has directives of its own
}

func (c *directiveCtx) handle(args []itArg) ([]itArg, error) {
	n := 0
	for ; n < len(args) && args[n].kind == itAtom && strings.HasPrefix(args[n].s, "$!"); n++ {
		d := strings.ToLower(args[n].s[2:])
		switch {
		case d == "unordered":
		case strings.HasPrefix(d, "unordered="):
			k, err := strconv.Atoi(d[len("unordered="):])
			if err != nil || k <= 0 {
				return nil, fmt.Errorf("broken directive %s", args[n].s)
			}
			c.chain = k
		case d == "ordered", d == "noextra", d == "extra", strings.HasPrefix(d, "ignore="), strings.HasPrefix(d, "ban="):
		default:
			return nil, fmt.Errorf("unknown directive %s", args[n].s)
		}
		c.explicit = true
	}
	if !c.explicit {
		if defaults := c.defaults(); defaults != nil {
			pre := make([]itArg, 0, len(defaults)+len(args))
			for _, d := range defaults {
				pre = append(pre, itArg{kind: itAtom, s: d})
			}
			args = append(pre, args...)
			n = len(defaults)
		}
	}
	if (len(args)-n)%c.chain != 0 {
		return nil, fmt.Errorf("list of %d elements is no whole number of chains of %d", len(args)-n, c.chain)
	}
	prev := ""
	for i := range args {
		if args[i].kind == itAtom {
			prev = strings.ToLower(args[i].s)
		}
		if args[i].kind != itList {
			continue
		}
		idx := i
		if c.chain > 1 {
			idx = i % c.chain
		}
		sub := &directiveCtx{parent: c, name: c.name, prevAtom: prev, chainIdx: idx, chain: 1}
		list, err := sub.handle(args[i].list)
		if err != nil {
			return nil, err
		}
		args[i].list = list
	}
	return args, nil
}

// defaults returns the directives imaptest puts at the start of this list when it has none.
func (c *directiveCtx) defaults() []string {
	p := c.parent
	if p == nil {
		return nil
	}
	switch c.name {
	case "list", "lsub":
		if p.parent == nil && c.chainIdx == 1 {
			return []string{"$!unordered"}
		}
	case "status":
		if p.parent == nil && c.chainIdx == 2 {
			return []string{"$!unordered=2"}
		}
	case "fetch":
		if p.parent == nil && c.chainIdx == 2 {
			return []string{"$!unordered=2"}
		}
		if p.parent != nil && p.parent.parent == nil && p.chainIdx == 2 && c.prevAtom == "flags" {
			return []string{"$!unordered", "$!noextra", `$!ignore=\recent`, "$!ignore=$HasAttachment", "$!ignore=$HasNoAttachment"}
		}
	}
	return nil
}

// itVars are a script's variables. A variable is bound the first time an expected reply that
// names it is matched; a match that fails undoes what it bound.
type itVars struct {
	m   map[string]string
	log []string // names in the order they were bound, for undo
	// seqmap maps the sequence numbers the client knew when the current command group began
	// ($1, $2, ...) to the current ones, 0 for expunged.
	seqmap []uint32
	// $modseqN variables must grow with N (imaptest's get_new_var_modseq).
	modseqIdx uint32
	modseqVal uint64
}

func newITVars() *itVars { return &itVars{m: map[string]string{}} }

func (v *itVars) checkpoint() int { return len(v.log) }

func (v *itVars) undo(to int) {
	for _, name := range v.log[to:] {
		delete(v.m, name)
	}
	v.log = v.log[:to]
}

func (v *itVars) bind(name, value string) {
	if idx, ok := strings.CutPrefix(name, "modseq"); ok {
		if n, err := strconv.ParseUint(idx, 10, 32); err == nil {
			value = v.modseq(uint32(n), value)
			v.m[name] = value // kept even if the match fails, as imaptest does
			return
		}
	}
	v.m[name] = value
	v.log = append(v.log, name)
}

func (v *itVars) modseq(idx uint32, value string) string {
	n, err := strconv.ParseUint(value, 10, 64)
	if err != nil {
		return "$modseq-not-number"
	}
	if v.modseqIdx > idx {
		return "$modseq-order-mismatch"
	}
	least := v.modseqVal + uint64(idx-v.modseqIdx)
	if n < least {
		value, n = fmt.Sprintf("$modseq-at-least-%d", least), least
	}
	v.modseqIdx, v.modseqVal = idx, n
	return value
}

// relativeSeq is the value of $N: what the client's sequence number N at the start of the
// command group is now.
func (v *itVars) relativeSeq(n uint64) string {
	switch {
	case n == 0:
		return "<zero seq>"
	case n > uint64(len(v.seqmap)):
		return "<out of range>"
	case v.seqmap[n-1] == 0:
		return "<expunged>"
	}
	return strconv.FormatUint(uint64(v.seqmap[n-1]), 10)
}

// expunged updates the sequence map for "* n EXPUNGE".
func (v *itVars) expunged(seq uint32) {
	if seq == 0 || int(seq) > len(v.seqmap) {
		return
	}
	for i := int(seq) - 1; i < len(v.seqmap); i++ {
		switch {
		case v.seqmap[i] == seq:
			v.seqmap[i] = 0
		case v.seqmap[i] > seq:
			v.seqmap[i]--
		}
	}
}

func isVarChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}

// varName reads a variable name after "$" at s[i:]: ${name} or $name. It returns the name
// and the index after it.
func varName(s string, i int) (string, int, bool) {
	if i < len(s) && s[i] == '{' {
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return "", i, false
		}
		return s[i+1 : i+end], i + end + 1, true
	}
	j := i
	for j < len(s) && isVarChar(s[j]) {
		j++
	}
	return s[i:j], j, true
}

// expandCommand replaces the variables of a command line by their values ("$$" is "$", a
// "$!directive" is dropped). Every variable must be bound.
func (v *itVars) expandCommand(line string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(line); {
		if line[i] != '$' || i == len(line)-1 {
			b.WriteByte(line[i])
			i++
			continue
		}
		i++
		switch line[i] {
		case '$':
			b.WriteByte('$')
			i++
			continue
		case '!':
			for i < len(line) && line[i] != ' ' {
				i++
			}
			if i < len(line) {
				i++
			}
			continue
		}
		name, next, ok := varName(line, i)
		if !ok {
			return "", fmt.Errorf("missing '}' in %q", line)
		}
		i = next
		if n, err := strconv.ParseUint(name, 10, 32); err == nil {
			b.WriteString(v.relativeSeq(n))
			continue
		}
		value, ok := v.m[name]
		if !ok {
			return "", fmt.Errorf("uninitialized variable $%s", name)
		}
		b.WriteString(value)
	}
	return b.String(), nil
}

// expandMatch matches the expected atom or string pattern against input as imaptest's
// test_expand_input does: text case-insensitively, bound variables by their value exactly,
// and an unbound variable by binding it to the input up to the character that follows it in
// the pattern ("$" alone matches without binding). It returns the expanded pattern, whether
// the comparison is case-insensitive (not after ${case:...}), and false on a mismatch.
func (v *itVars) expandMatch(pattern, input string) (string, bool, bool) {
	icase := true
	var out strings.Builder
	in := 0
	for i := 0; i < len(pattern); {
		if pattern[i] != '$' || i+1 < len(pattern) && pattern[i+1] == '$' {
			if pattern[i] == '$' {
				i++
			}
			if in >= len(input) || upper(pattern[i]) != upper(input[in]) {
				return "", icase, false
			}
			out.WriteByte(pattern[i])
			i++
			in++
			continue
		}
		name, next, ok := varName(pattern, i+1)
		if !ok {
			return "", icase, false
		}
		i = next
		var value string
		if n, err := strconv.ParseUint(name, 10, 32); err == nil {
			value = v.relativeSeq(n)
		} else if text, ok := strings.CutPrefix(name, "case:"); ok {
			icase = false
			value = text
		} else if bound, ok := v.m[name]; ok && name != "" {
			value = bound
		} else {
			end := v.stopAt(pattern[i:], input[in:])
			value = input[in : in+end]
			if name != "" {
				v.bind(name, value)
				value = v.m[name]
			}
		}
		out.WriteString(value)
		if !strings.HasPrefix(input[in:], value) {
			return "", icase, false
		}
		in += len(value)
	}
	return out.String(), icase, true
}

// stopAt is where an unbound variable's value ends in input: before the first occurrence of
// the character that follows the variable in the pattern, or at the end.
func (v *itVars) stopAt(rest, input string) int {
	var stop byte
	switch {
	case rest == "":
		return len(input)
	case rest[0] != '$' || len(rest) > 1 && rest[1] == '$':
		stop = rest[0]
	default:
		name, _, ok := varName(rest, 1)
		value, bound := v.m[name]
		if !ok || !bound || value == "" {
			return len(input)
		}
		stop = value[0]
	}
	for i := 0; i < len(input); i++ {
		if upper(input[i]) == upper(stop) {
			return i
		}
	}
	return len(input)
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// matchArgs compares expected args with received ones (test_imap_match_args). At most max
// elements are compared; with prefix, the last expected element need only be a prefix of the
// received one and received elements may follow (the text of OK/NO/BAD/BYE). It returns
// whether they match and how many elements matched, for the report of the best near miss.
func (v *itVars) matchArgs(match, args []itArg, max int, prefix bool) (bool, int) {
	n, ai := 0, 0
	for mi := 0; mi < len(match) && n < max; mi, ai, n = mi+1, ai+1, n+1 {
		m := match[mi]
		if ai >= len(args) {
			return false, n
		}
		a := args[ai]
		switch m.kind {
		case itNil:
			if a.kind != itNil {
				return false, n
			}
		case itAtom, itString:
			if m.s == "$" && a.kind == itList {
				break // "$" skips a list
			}
			if m.s == "$]" {
				// "$]" skips atoms up to one that has "]": * OK [CAPABILITY $] ...
				for ai < len(args)-1 && args[ai].kind == itAtom && !strings.Contains(args[ai].s, "]") {
					ai++
				}
				break
			}
			got, ok := a.astring()
			if !ok {
				return false, n
			}
			want, icase, ok := v.expandMatch(m.s, got)
			if !ok {
				return false, n
			}
			if prefix && mi == len(match)-1 {
				if len(got) < len(want) || !equalCase(got[:len(want)], want, icase) {
					return false, n
				}
			} else if !equalCase(got, want, icase) {
				return false, n
			}
		case itList:
			if a.kind != itList {
				return false, n
			}
			if ok, sub := v.matchList(m.list, a.list); !ok {
				return false, n + sub
			}
		}
	}
	if prefix || ai >= len(args) || n == max {
		return true, n
	}
	return false, n
}

func equalCase(a, b string, icase bool) bool {
	if icase {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// matchList compares an expected list with a received one, after its $! directives
// (test_imap_match_list): in order by default; with $!unordered[=n] each chain of n expected
// elements may be anywhere, and unmatched received elements are allowed unless $!noextra
// (then only those named by $!ignore=) and banned if named by $!ban=.
func (v *itVars) matchList(match, args []itArg) (bool, int) {
	unordered := false
	chain := 1
	noextra := -1
	var ignores, bans []string
	for len(match) > 0 && match[0].kind == itAtom && strings.HasPrefix(match[0].s, "$!") {
		d := match[0].s[2:]
		switch ld := strings.ToLower(d); {
		case strings.HasPrefix(ld, "unordered"):
			unordered = true
			if noextra == -1 {
				noextra = 0
			}
			if k, ok := strings.CutPrefix(ld, "unordered="); ok {
				chain, _ = strconv.Atoi(k)
			}
		case ld == "ordered":
			unordered = false
		case ld == "extra":
			noextra = 0
		case ld == "noextra":
			noextra = 1
		case strings.HasPrefix(ld, "ignore="):
			ignores = append(ignores, d[len("ignore="):])
		case strings.HasPrefix(ld, "ban="):
			bans = append(bans, d[len("ban="):])
		}
		match = match[1:]
	}
	if noextra == -1 {
		noextra = 1
	}
	if !unordered {
		return v.matchArgs(match, args, len(match)+len(args)+1, false)
	}
	if len(args)%chain != 0 {
		return false, 0
	}
	matched := make([]bool, len(args))
	n := 0
	for m := 0; m < len(match); m, n = m+chain, n+1 {
		found := false
		for i := 0; i < len(args); i += chain {
			cp := v.checkpoint()
			if ok, _ := v.matchArgs(match[m:m+chain], args[i:], chain, false); ok {
				matched[i] = true
				found = true
				break
			}
			v.undo(cp)
		}
		if !found {
			return false, n
		}
	}
	named := func(list []string, s string) bool {
		for _, x := range list {
			if strings.EqualFold(x, s) {
				return true
			}
		}
		return false
	}
	for i := 0; i < len(args); i += chain {
		s, ok := args[i].astring()
		if matched[i] || !ok {
			continue
		}
		if noextra > 0 && !named(ignores, s) || noextra == 0 && named(bans, s) {
			return false, n
		}
	}
	return true, n
}

// TestImaptestMatching checks the runner's matching against the rules of imaptest's
// docs/scripted_test.md, so that a script passes for the right reasons.
func TestImaptestMatching(t *testing.T) {
	tests := []struct {
		name     string
		expected string // an expected untagged line, without "* "
		reply    string // a server's untagged reply, without "* "
		prefix   bool
		want     bool
	}{
		{"words ignore case", "1 fetch (uid 5)", "1 FETCH (UID 5)", false, true},
		{"extra FETCH items are fine", "1 fetch (uid 5)", "1 FETCH (FLAGS () UID 5)", false, true},
		{"missing FETCH item", "1 fetch (uid 5 flags ())", "1 FETCH (UID 5)", false, false},
		{"FLAGS in any order", `1 fetch (flags (\seen \answered))`, `1 FETCH (FLAGS (\Answered \Seen))`, false, true},
		{"FLAGS may add \\Recent", `1 fetch (flags (\seen))`, `1 FETCH (FLAGS (\Seen \Recent))`, false, true},
		{"FLAGS no others", `1 fetch (flags (\seen))`, `1 FETCH (FLAGS (\Seen \Flagged))`, false, false},
		{"$!extra allows more", `1 fetch (flags ($!unordered $!extra \seen))`, `1 FETCH (FLAGS (\Seen \Flagged))`, false, true},
		{"$!ban", `list ($!unordered $!ban=\noselect \subscribed) "/" a`, `LIST (\Subscribed \Noselect) "/" a`, false, false},
		{"LIST attributes unordered", `list (\subscribed) "/" a`, `LIST (\HasNoChildren \Subscribed) "/" a`, false, true},
		{"other lists in order", `esearch (tag "1.1") all 1:3`, `ESEARCH (TAG "1.1") ALL 1:3`, false, true},
		{"one element too many", "search 1 2", "SEARCH 1 2 3", false, false},
		{"$ skips a list", "1 fetch (envelope $)", `1 FETCH (ENVELOPE (NIL "s" NIL))`, false, true},
		{"NIL is NIL", "1 fetch (envelope (nil))", `1 FETCH (ENVELOPE ("NIL"))`, false, false},
		{"literal equals string", "1 fetch (body[] {3}\r\nabc)", `1 FETCH (BODY[] "abc")`, false, true},
		{"section brackets", "1 fetch (body[header.fields (from)] {2}\r\nab)", "1 FETCH (BODY[HEADER.FIELDS (FROM)] {2}\r\nab)", false, true},
		{"status text after the code", "ok [uidnext 4]", "OK [UIDNEXT 4] predicted next UID", true, true},
		{"wrong response code", "ok [uidnext 4]", "OK [UIDNEXT 5] predicted next UID", true, false},
		{"$$ is a dollar", "1 fetch (flags ($$hello))", "1 FETCH (FLAGS ($hello))", false, true},
		{"${case:} compares exactly", `list () "/" ${case:INBOX}`, `LIST () "/" inbox`, false, false},
	}
	for _, tt := range tests {
		exp, err := parseITArgs(tt.expected)
		if err == nil {
			exp, err = addDefaultDirectives(exp)
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, err := parseITArgs(tt.reply)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if ok, _ := newITVars().matchArgs(exp, got, len(exp)+len(got)+1, tt.prefix); ok != tt.want {
			t.Errorf("%s: %q against %q: %v, want %v", tt.name, tt.expected, tt.reply, ok, tt.want)
		}
	}
}

// TestImaptestVariables checks binding, undo and relative sequence numbers.
func TestImaptestVariables(t *testing.T) {
	v := newITVars()
	match := func(expected, reply string) bool {
		exp, _ := parseITArgs(expected)
		exp, _ = addDefaultDirectives(exp)
		got, _ := parseITArgs(reply)
		cp := v.checkpoint()
		ok, _ := v.matchArgs(exp, got, len(exp)+len(got)+1, false)
		if !ok {
			v.undo(cp)
		}
		return ok
	}
	if !match("1 fetch (uid $uid1)", "1 FETCH (UID 7)") || v.m["uid1"] != "7" {
		t.Fatalf("$uid1 not bound to 7: %q", v.m["uid1"])
	}
	if match("2 fetch (uid $uid1)", "2 FETCH (UID 8)") {
		t.Fatal("a bound variable matched another value")
	}
	if match("search $a $b 9", "SEARCH 1 2 3") || v.m["a"] != "" {
		t.Fatalf("a failed match left $a bound to %q", v.m["a"])
	}
	if !match("esearch all $u1:$u3", "ESEARCH ALL 4:9") || v.m["u1"] != "4" || v.m["u3"] != "9" {
		t.Fatalf("$u1:$u3 bound to %q, %q", v.m["u1"], v.m["u3"])
	}
	v.seqmap = []uint32{1, 2, 3, 4}
	v.expunged(1) // message 1 went: 2, 3, 4 are now 1, 2, 3
	v.expunged(2) // the old 3
	if !match("$2 expunge", "1 EXPUNGE") || match("$3 expunge", "3 EXPUNGE") || !match("$4 fetch (uid 1)", "2 FETCH (UID 1)") {
		t.Fatalf("relative sequence numbers: map %v", v.seqmap)
	}
	if got, err := v.expandCommand("uid fetch $uid1:* ${u3} $$x"); err != nil || got != "uid fetch 7:* 9 $x" {
		t.Fatalf("expandCommand = %q, %v", got, err)
	}
	if _, err := v.expandCommand("fetch $nowhere"); err == nil {
		t.Fatal("expandCommand of an unbound variable succeeded")
	}
}
