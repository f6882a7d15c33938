package importer

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// imapClient is the little of an IMAP4rev1 client (RFC 3501) an import needs: one command at
// a time, tagged; untagged responses handed to the caller as parsed lists, except a FETCH's
// BODY[] literal, which is streamed. Small literals elsewhere (a mailbox name, say) are read
// into memory up to maxSmallLiteral.
type imapClient struct {
	conn net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
	tag  int
	caps map[string]bool
}

const maxSmallLiteral = 64 << 10

// item is one parsed element of a response: an atom or string, NIL, or a parenthesised list.
type item struct {
	text   string
	list   []item
	isList bool
	isNil  bool
}

func newIMAPClient(conn net.Conn) *imapClient {
	return &imapClient{conn: conn, br: bufio.NewReaderSize(conn, 64<<10), bw: bufio.NewWriter(conn)}
}

// greeting reads the server's first response (RFC 3501 §7.1.1, OK or PREAUTH).
func (c *imapClient) greeting() error {
	line, err := c.readText()
	if err != nil {
		return fmt.Errorf("read greeting: %w", err)
	}
	if !strings.HasPrefix(line, "* OK") && !strings.HasPrefix(line, "* PREAUTH") {
		return fmt.Errorf("server greeting %q", line)
	}
	return nil
}

// readText reads one line without its CRLF.
func (c *imapClient) readText() (string, error) {
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Minute))
	line, err := c.br.ReadString('\n')
	if err != nil {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// literalSize is the size of the literal ({N} or {N+}) that ends line, -1 when none does.
func literalSize(line string) int64 {
	if !strings.HasSuffix(line, "}") {
		return -1
	}
	open := strings.LastIndexByte(line, '{')
	if open < 0 {
		return -1
	}
	n, err := strconv.ParseInt(strings.TrimSuffix(line[open+1:len(line)-1], "+"), 10, 64)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// command sends a tagged command and reads until its completion; every untagged response goes
// to untagged (with the literal handler for FETCH bodies when body is set). An answer other
// than OK is an error.
func (c *imapClient) command(cmd string, untagged func([]item) error, body func(seq uint32, r io.Reader) error) error {
	c.tag++
	tag := fmt.Sprintf("p%d", c.tag)
	_ = c.conn.SetWriteDeadline(time.Now().Add(time.Minute))
	if _, err := fmt.Fprintf(c.bw, "%s %s\r\n", tag, cmd); err != nil {
		return err
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	verb, _, _ := strings.Cut(cmd, " ")
	for {
		line, err := c.readText()
		if err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		if rest, ok := strings.CutPrefix(line, tag+" "); ok {
			if strings.HasPrefix(strings.ToUpper(rest), "OK") {
				return nil
			}
			return fmt.Errorf("%s: server answered %q", verb, rest)
		}
		if !strings.HasPrefix(line, "* ") {
			continue // a continuation request never comes: no command here sends a literal
		}
		if body != nil && isFetchBody(line) {
			if err := c.fetchBody(line, body); err != nil {
				return fmt.Errorf("%s: %w", verb, err)
			}
			continue
		}
		full, lits, err := c.readLiterals(line)
		if err != nil {
			return fmt.Errorf("%s: %w", verb, err)
		}
		items, err := parseItems(full[2:], lits)
		if err != nil {
			return fmt.Errorf("%s: %w in %q", verb, err, line)
		}
		if untagged != nil {
			if err := untagged(items); err != nil {
				return err
			}
		}
	}
}

// isFetchBody: "* N FETCH (... BODY[] {size}".
func isFetchBody(line string) bool {
	return strings.Contains(strings.ToUpper(line), " FETCH ") && literalSize(line) >= 0 &&
		strings.HasSuffix(strings.ToUpper(strings.TrimSpace(line[:strings.LastIndexByte(line, '{')])), "BODY[]")
}

// fetchBody streams the BODY[] literal a FETCH line announces to body, then reads the rest
// of the response.
func (c *imapClient) fetchBody(line string, body func(uint32, io.Reader) error) error {
	fields := strings.Fields(line)
	seq, err := strconv.ParseUint(fields[1], 10, 32)
	if err != nil {
		return fmt.Errorf("fetch response %q", line)
	}
	n := literalSize(line)
	_ = c.conn.SetReadDeadline(time.Now().Add(30 * time.Minute))
	lit := io.LimitReader(c.br, n)
	if err := body(uint32(seq), lit); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, lit); err != nil {
		return err
	}
	rest, err := c.readText() // ")" or more items, which this import does not need
	if err != nil {
		return err
	}
	if literalSize(rest) >= 0 {
		_, _, err = c.readLiterals(rest)
	}
	return err
}

// readLiterals reads what follows a line that ends with a literal, up to the response's end,
// and returns the text with each literal replaced by a marker ("\x00" and its index) and the
// literals.
func (c *imapClient) readLiterals(line string) (string, []string, error) {
	var lits []string
	var b strings.Builder
	for {
		n := literalSize(line)
		if n < 0 {
			b.WriteString(line)
			return b.String(), lits, nil
		}
		if n > maxSmallLiteral {
			return "", nil, fmt.Errorf("literal of %d octets in a response", n)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.br, buf); err != nil {
			return "", nil, err
		}
		b.WriteString(line[:strings.LastIndexByte(line, '{')])
		fmt.Fprintf(&b, "\x00%d ", len(lits))
		lits = append(lits, string(buf))
		var err error
		if line, err = c.readText(); err != nil {
			return "", nil, err
		}
	}
}

var errParse = errors.New("malformed response")

// parseItems parses a response's text (RFC 3501 §9: atoms, quoted strings, literals by
// marker, NIL, lists).
func parseItems(s string, lits []string) ([]item, error) {
	p := &itemParser{s: s, lits: lits}
	items, err := p.list(0)
	if err == nil && p.i < len(p.s) {
		err = errParse
	}
	return items, err
}

type itemParser struct {
	s    string
	i    int
	lits []string
}

func (p *itemParser) list(end byte) ([]item, error) {
	var out []item
	for {
		for p.i < len(p.s) && p.s[p.i] == ' ' {
			p.i++
		}
		if p.i >= len(p.s) {
			if end != 0 {
				return nil, errParse
			}
			return out, nil
		}
		switch c := p.s[p.i]; {
		case c == end:
			p.i++
			return out, nil
		case c == ')':
			return nil, errParse
		case c == '(':
			p.i++
			sub, err := p.list(')')
			if err != nil {
				return nil, err
			}
			out = append(out, item{list: sub, isList: true})
		case c == '"':
			text, err := p.quoted()
			if err != nil {
				return nil, err
			}
			out = append(out, item{text: text})
		case c == 0:
			j := p.i + 1
			for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
				j++
			}
			k, err := strconv.Atoi(p.s[p.i+1 : j])
			if err != nil || k >= len(p.lits) {
				return nil, errParse
			}
			p.i = j
			out = append(out, item{text: p.lits[k]})
		default:
			j := p.i
			depth := 0 // BODY[HEADER.FIELDS (A B)] keeps its brackets together
			for j < len(p.s) && (depth > 0 || (p.s[j] != ' ' && p.s[j] != '(' && p.s[j] != ')')) {
				switch p.s[j] {
				case '[':
					depth++
				case ']':
					depth--
				}
				j++
			}
			atom := p.s[p.i:j]
			p.i = j
			out = append(out, item{text: atom, isNil: strings.EqualFold(atom, "NIL")})
		}
	}
}

func (p *itemParser) quoted() (string, error) {
	var b bytes.Buffer
	for p.i++; p.i < len(p.s); p.i++ {
		switch c := p.s[p.i]; c {
		case '\\':
			p.i++
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
			}
		case '"':
			p.i++
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", errParse
}

// quote makes an IMAP quoted string (RFC 3501 §4.3); CR and LF cannot be in one.
func quote(s string) (string, error) {
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", errors.New("CR, LF or NUL in a quoted string")
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
}
