package imapserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The lexer of the command grammar (RFC 9051 §9). A command is read line by line straight from
// the connection: a line that ends with a literal marker ({n}, {n+}, ~{n}) is followed by n
// octets, then by the next line of the same command. Small literals (strings) are read into
// memory up to maxLiteral; APPEND's message literal is left on the connection for the command
// to stream into a blob (see parser.literalHeader).

// Limits of one command, apart from APPEND's message.
const (
	maxLine    = 64 << 10 // one line of a command, without its literals
	maxLiteral = 64 << 10 // one string literal
	maxCommand = 1 << 20  // one whole command: lines and literals
)

// response is the status response that ends a command (RFC 9051 §7.1): a refusal (BAD, NO) of
// the parser or of a command, returned as an error, or an OK with a response code. The
// connection stays usable.
type response struct {
	status string // "OK", "NO" or "BAD"
	code   string // response code without brackets, e.g. "TOOBIG"; "" for none
	text   string
}

func (e *response) Error() string {
	if e.code != "" {
		return e.status + " [" + e.code + "] " + e.text
	}
	return e.status + " " + e.text
}

func badf(format string, args ...any) *response {
	return &response{status: "BAD", text: fmt.Sprintf(format, args...)}
}

// no is a NO response with an optional code.
func no(code, text string) *response { return &response{status: "NO", code: code, text: text} }

// okCode is an OK response with a response code.
func okCode(code, text string) *response { return &response{status: "OK", code: code, text: text} }

// errLineTooLong is returned for a line over maxLine; the rest of it was discarded.
var errLineTooLong = &response{status: "BAD", code: "TOOBIG", text: "command line too long"}

// parser reads and tokenises one command at a time from r.
type parser struct {
	r *bufio.Reader
	// cont asks the client for a synchronizing literal's data ("+ " continuation, RFC 9051
	// §7.5) and flushes the responses written so far.
	cont func() error

	line []byte // the current line, without its CRLF
	pos  int    // position of the next unread byte of line
	read int64  // octets of the current command read so far
	buf  []byte // line storage, reused while small
}

func newParser(r *bufio.Reader, cont func() error) *parser {
	return &parser{r: r, cont: cont}
}

// begin starts a new command: it reads its first line.
func (p *parser) begin() error {
	p.read = 0
	if cap(p.buf) > 4096 {
		p.buf = nil // do not keep a large line for an idle connection
	}
	return p.readLine()
}

// readLine reads the next line of the command into p.line. An over-long line is discarded to
// its end and reported as errLineTooLong; a read error is returned as is (the connection is
// finished).
func (p *parser) readLine() error {
	p.buf = p.buf[:0]
	p.pos = 0
	tooLong := false
	for {
		chunk, err := p.r.ReadSlice('\n')
		if !tooLong {
			if len(p.buf)+len(chunk) > maxLine+2 {
				tooLong = true
				p.buf = p.buf[:0]
			} else {
				p.buf = append(p.buf, chunk...)
			}
		}
		p.read += int64(len(chunk))
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && (len(p.buf) > 0 || len(chunk) > 0) {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		break
	}
	if tooLong {
		p.line = nil
		return errLineTooLong
	}
	line := p.buf[:len(p.buf)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	p.line = line
	if p.read > maxCommand {
		return &response{status: "BAD", code: "TOOBIG", text: "command too long"}
	}
	return nil
}

// skip discards what is left of a refused command so that the next line read starts a new
// command: every non-synchronizing literal announced at the end of a line is read and dropped.
// A synchronizing literal is not: the client waits for a continuation that never comes, and
// reads the tagged response instead.
func (p *parser) skip() error {
	for {
		lit, ok := trailingLiteral(p.line)
		p.line, p.pos = nil, 0
		if !ok || lit.sync {
			return nil
		}
		if _, err := io.CopyN(io.Discard, p.r, lit.size); err != nil {
			return err
		}
		if err := p.readLine(); err != nil && err != errLineTooLong {
			return err
		}
	}
}

// literalMarker describes a literal announced at the end of a line.
type literalMarker struct {
	size   int64
	sync   bool // {n}: the client waits for "+ " before sending the octets
	binary bool // ~{n}: literal8 (RFC 3516, RFC 9051 §9 literal8)
}

// trailingLiteral reports the literal marker at the end of line, if there is one.
func trailingLiteral(line []byte) (literalMarker, bool) {
	if len(line) < 3 || line[len(line)-1] != '}' {
		return literalMarker{}, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return literalMarker{}, false
	}
	m, end, err := parseLiteralMarker(line, open)
	if err != nil || end != len(line) {
		return literalMarker{}, false
	}
	if open > 0 && line[open-1] == '~' {
		m.binary = true
	}
	return m, true
}

// parseLiteralMarker reads "{n}" or "{n+}" at line[i] (which is '{').
func parseLiteralMarker(line []byte, i int) (literalMarker, int, error) {
	j := i + 1
	start := j
	for j < len(line) && line[j] >= '0' && line[j] <= '9' {
		j++
	}
	if j == start || j-start > 19 {
		return literalMarker{}, 0, badf("bad literal size")
	}
	n, err := strconv.ParseInt(string(line[start:j]), 10, 64)
	if err != nil {
		return literalMarker{}, 0, badf("bad literal size")
	}
	m := literalMarker{size: n, sync: true}
	if j < len(line) && line[j] == '+' {
		m.sync = false
		j++
	}
	if j >= len(line) || line[j] != '}' {
		return literalMarker{}, 0, badf("bad literal")
	}
	return m, j + 1, nil
}

// --- character classes (RFC 9051 §9) ---

// isAtomChar: any CHAR except atom-specials: "(" ")" "{" SP CTL "%" "*" DQUOTE "\" "]".
// 8-bit octets are not atom chars either.
func isAtomChar(c byte) bool {
	switch c {
	case '(', ')', '{', ' ', '%', '*', '"', '\\', ']':
		return false
	}
	return c > 0x1f && c < 0x7f
}

func isAStringChar(c byte) bool { return isAtomChar(c) || c == ']' }

// isListChar: ATOM-CHAR / list-wildcards / resp-specials.
func isListChar(c byte) bool { return isAStringChar(c) || c == '%' || c == '*' }

func isTagChar(c byte) bool { return isAStringChar(c) && c != '+' }

// --- token readers ---

func (p *parser) atEOL() bool { return p.pos >= len(p.line) }

func (p *parser) peek() byte {
	if p.pos < len(p.line) {
		return p.line[p.pos]
	}
	return 0
}

// consume reads c if it is next.
func (p *parser) consume(c byte) bool {
	if p.pos < len(p.line) && p.line[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expect(c byte) error {
	if !p.consume(c) {
		if p.atEOL() {
			return badf("expected %q, found end of line", c)
		}
		return badf("expected %q at %q", c, p.context())
	}
	return nil
}

func (p *parser) sp() error { return p.expect(' ') }

// eol checks that the command ends here.
func (p *parser) eol() error {
	if !p.atEOL() {
		return badf("unexpected %q at end of command", p.context())
	}
	return nil
}

// context is a short excerpt of the line at the current position, for error messages.
func (p *parser) context() string {
	rest := p.line[p.pos:]
	if len(rest) > 20 {
		rest = rest[:20]
	}
	return strings.ToValidUTF8(string(rest), "?")
}

// takeWhile returns the run of bytes from the current position that satisfy ok.
func (p *parser) takeWhile(ok func(byte) bool) string {
	start := p.pos
	for p.pos < len(p.line) && ok(p.line[p.pos]) {
		p.pos++
	}
	return string(p.line[start:p.pos])
}

// atom reads 1*ATOM-CHAR.
func (p *parser) atom() (string, error) {
	s := p.takeWhile(isAtomChar)
	if s == "" {
		return "", p.missing("atom")
	}
	return s, nil
}

func (p *parser) missing(what string) error {
	if p.atEOL() {
		return badf("expected %s, found end of line", what)
	}
	return badf("expected %s at %q", what, p.context())
}

// keyword reads an atom and upper-cases it (command names, search keys, options).
func (p *parser) keyword() (string, error) {
	s, err := p.atom()
	return strings.ToUpper(s), err
}

// tryKeyword consumes w (case-insensitively) if the next atom is exactly w.
func (p *parser) tryKeyword(w string) bool {
	end := p.pos + len(w)
	if end > len(p.line) || !strings.EqualFold(string(p.line[p.pos:end]), w) {
		return false
	}
	if end < len(p.line) && isAtomChar(p.line[end]) {
		return false
	}
	p.pos = end
	return true
}

// astring reads an astring: 1*ASTRING-CHAR or a string.
func (p *parser) astring() (string, error) {
	switch p.peek() {
	case '"', '{':
		return p.str()
	case '~':
		// "~{" is a literal8 only where the grammar allows one; here "~" is an atom char.
	}
	s := p.takeWhile(isAStringChar)
	if s == "" {
		return "", p.missing("string")
	}
	return s, nil
}

// spAstring reads SP astring into dst.
func (p *parser) spAstring(dst *string) error {
	if err := p.sp(); err != nil {
		return err
	}
	var err error
	*dst, err = p.astring()
	return err
}

// nstring reads NIL or a string.
func (p *parser) nstring() (string, bool, error) {
	if p.tryKeyword("NIL") {
		return "", false, nil
	}
	s, err := p.str()
	return s, true, err
}

// str reads a quoted string or a literal.
func (p *parser) str() (string, error) {
	switch p.peek() {
	case '"':
		return p.quoted()
	case '{':
		b, err := p.literal(maxLiteral)
		return string(b), err
	}
	return "", p.missing("string")
}

// quoted reads DQUOTE *QUOTED-CHAR DQUOTE. 8-bit octets are accepted (UTF-8 in IMAP4rev2 and
// with UTF8=ACCEPT; other clients do send them, and the name then simply does not match).
func (p *parser) quoted() (string, error) {
	if err := p.expect('"'); err != nil {
		return "", err
	}
	var b strings.Builder
	for p.pos < len(p.line) {
		c := p.line[p.pos]
		p.pos++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.pos >= len(p.line) || (p.line[p.pos] != '"' && p.line[p.pos] != '\\') {
				return "", badf("bad escape in quoted string")
			}
			c = p.line[p.pos]
			p.pos++
		case 0:
			return "", badf("NUL in quoted string")
		}
		b.WriteByte(c)
	}
	return "", badf("unterminated quoted string")
}

// literal reads a literal ({n}, {n+}) of at most limit octets into memory, asking for it
// first when it is synchronizing, and then reads the line that follows it.
func (p *parser) literal(limit int64) ([]byte, error) {
	m, err := p.literalHeader()
	if err != nil {
		return nil, err
	}
	if m.binary {
		return nil, badf("literal8 not allowed here")
	}
	if m.size > limit {
		return nil, &response{status: "BAD", code: "TOOBIG", text: fmt.Sprintf("literal over %d octets", limit)}
	}
	if err := p.acceptLiteral(m); err != nil {
		return nil, err
	}
	b := make([]byte, m.size)
	if _, err := io.ReadFull(p.r, b); err != nil {
		return nil, err
	}
	p.read += m.size
	if err := p.readLine(); err != nil {
		return nil, err
	}
	return b, nil
}

// literalHeader reads a literal marker that must end the current line, leaving the literal's
// octets unread: the caller calls acceptLiteral, reads exactly m.size octets from p.r, then
// calls readLine for the rest of the command. A refused literal leaves p.line ending in its
// marker, so skip discards a non-synchronizing one.
func (p *parser) literalHeader() (literalMarker, error) {
	binary := p.consume('~')
	if p.peek() != '{' {
		return literalMarker{}, p.missing("literal")
	}
	m, end, err := parseLiteralMarker(p.line, p.pos)
	if err != nil {
		return m, err
	}
	if end != len(p.line) {
		return m, badf("literal marker must end the line")
	}
	p.pos = end
	m.binary = binary
	if p.read+m.size > maxCommand && m.size <= maxLiteral {
		return m, &response{status: "BAD", code: "TOOBIG", text: "command too long"}
	}
	return m, nil
}

// acceptLiteral asks for a synchronizing literal's octets.
func (p *parser) acceptLiteral(m literalMarker) error {
	if m.sync {
		return p.cont()
	}
	return nil
}

// number reads a number that fits 32 bits (RFC 9051 number).
func (p *parser) number() (uint32, error) {
	n, err := p.number64()
	if err != nil {
		return 0, err
	}
	if n > 1<<32-1 {
		return 0, badf("number out of range")
	}
	return uint32(n), nil
}

// nzNumber reads a non-zero 32-bit number.
func (p *parser) nzNumber() (uint32, error) {
	n, err := p.number()
	if err == nil && n == 0 {
		err = badf("zero is not allowed here")
	}
	return n, err
}

// number64 reads a number of at most 63 bits (RFC 9051 number64).
func (p *parser) number64() (uint64, error) {
	s := p.takeWhile(func(c byte) bool { return c >= '0' && c <= '9' })
	if s == "" {
		return 0, p.missing("number")
	}
	n, err := strconv.ParseUint(s, 10, 63)
	if err != nil {
		return 0, badf("number out of range")
	}
	return n, nil
}

// listMailbox reads a LIST pattern: 1*list-char or a string.
func (p *parser) listMailbox() (string, error) {
	switch p.peek() {
	case '"', '{':
		return p.str()
	}
	s := p.takeWhile(isListChar)
	if s == "" {
		return "", p.missing("mailbox pattern")
	}
	return s, nil
}

// flag reads a flag: "\" atom (system flag or extension) or a keyword atom.
func (p *parser) flag() (string, error) {
	if p.consume('\\') {
		a, err := p.atom()
		if err != nil {
			return "", err
		}
		return canonicalFlag(`\` + a), nil
	}
	return p.atom()
}

// mailboxParams reads SP mailbox [SP "(" param *(SP param) ")"], the shape of CREATE's and
// SELECT's arguments (RFC 6154 §6, RFC 7162 §3.1.8): param gets each parameter's name, a
// keyword, and reads what follows it.
func (p *parser) mailboxParams(mailbox *string, param func(name string) error) error {
	if err := p.spAstring(mailbox); err != nil {
		return err
	}
	if !p.consume(' ') {
		return nil
	}
	return p.parenList(func() error {
		name, err := p.keyword()
		if err != nil {
			return err
		}
		return param(name)
	})
}

// parenList reads "(" [elem *(SP elem)] ")", calling elem to read each element.
func (p *parser) parenList(elem func() error) error {
	if err := p.expect('('); err != nil {
		return err
	}
	for first := true; !p.consume(')'); first = false {
		if !first {
			if err := p.sp(); err != nil {
				return err
			}
		}
		if err := elem(); err != nil {
			return err
		}
	}
	return nil
}

// flagList reads "(" [flag *(SP flag)] ")".
func (p *parser) flagList() ([]string, error) {
	flags := []string{}
	err := p.parenList(func() error {
		f, err := p.flag()
		flags = append(flags, f)
		return err
	})
	return flags, err
}

// canonicalFlag spells a system flag the way RFC 9051 §2.3.2 does; other flags are kept.
func canonicalFlag(f string) string {
	for _, sys := range systemFlags {
		if strings.EqualFold(f, sys) {
			return sys
		}
	}
	if strings.EqualFold(f, `\Recent`) {
		return `\Recent`
	}
	return f
}

// systemFlags are the flags of RFC 9051 §2.3.2 a client may set (\Recent is the server's).
var systemFlags = []string{`\Answered`, `\Flagged`, `\Deleted`, `\Seen`, `\Draft`}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// date reads date = date-text / DQUOTE date-text DQUOTE, with date-text = date-day "-"
// date-month "-" date-year (RFC 9051 §9). The result is midnight UTC of that day.
func (p *parser) date() (time.Time, error) {
	quoted := p.consume('"')
	day := p.takeWhile(isDigit)
	if len(day) < 1 || len(day) > 2 {
		return time.Time{}, badf("bad date")
	}
	t, err := p.monthYear(day)
	if err != nil {
		return time.Time{}, err
	}
	if quoted && !p.consume('"') {
		return time.Time{}, badf("bad date")
	}
	return t, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// monthYear reads "-" date-month "-" date-year after the day.
func (p *parser) monthYear(day string) (time.Time, error) {
	if !p.consume('-') || p.pos+3 > len(p.line) {
		return time.Time{}, badf("bad date")
	}
	mon := string(p.line[p.pos : p.pos+3])
	p.pos += 3
	month := 0
	for i, m := range months {
		if strings.EqualFold(m, mon) {
			month = i + 1
		}
	}
	if month == 0 || !p.consume('-') {
		return time.Time{}, badf("bad date")
	}
	year := p.takeWhile(isDigit)
	if len(year) != 4 {
		return time.Time{}, badf("bad date")
	}
	d, _ := strconv.Atoi(day)
	y, _ := strconv.Atoi(year)
	if d < 1 || d > 31 {
		return time.Time{}, badf("bad date")
	}
	t := time.Date(y, time.Month(month), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d {
		return time.Time{}, badf("bad date")
	}
	return t, nil
}

// dateTime reads date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP
// zone DQUOTE, e.g. "17-Jul-1996 02:44:25 -0700" (RFC 9051 §9). A one-digit day may be
// preceded by a space or not.
func (p *parser) dateTime() (time.Time, error) {
	if err := p.expect('"'); err != nil {
		return time.Time{}, err
	}
	p.consume(' ')
	day := p.takeWhile(isDigit)
	if len(day) < 1 || len(day) > 2 {
		return time.Time{}, badf("bad date-time")
	}
	date, err := p.monthYear(day)
	if err != nil {
		return time.Time{}, badf("bad date-time")
	}
	if p.pos+15 > len(p.line) {
		return time.Time{}, badf("bad date-time")
	}
	rest := string(p.line[p.pos : p.pos+15]) // " hh:mm:ss +zzzz"
	p.pos += 15
	if !p.consume('"') {
		return time.Time{}, badf("bad date-time")
	}
	t, err := time.Parse(" 15:04:05 -0700", rest)
	if err != nil {
		return time.Time{}, badf("bad date-time")
	}
	return time.Date(date.Year(), date.Month(), date.Day(), t.Hour(), t.Minute(), t.Second(), 0, t.Location()), nil
}

// errNoTag is wrapped when a line has no valid tag; the reply is an untagged BAD.
var errNoTag = errors.New("no tag")
