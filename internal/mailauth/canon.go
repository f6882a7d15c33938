package mailauth

import (
	"bytes"
	"io"
	"strings"
)

// This file holds the DKIM canonicalization algorithms (RFC 6376 §3.4), which DKIM and ARC
// signatures (RFC 8617 §4.1.2, §5.1.1) share.

// canonHeaderRelaxed is "relaxed" header canonicalization (RFC 6376 §3.4.2): lower-case name,
// unfolded value with runs of white space reduced to one space and none at either end.
func canonHeaderRelaxed(raw []byte) []byte {
	name, value, _ := bytes.Cut(raw, []byte(":"))
	var b bytes.Buffer
	b.Grow(len(raw))
	b.WriteString(strings.ToLower(strings.TrimRight(string(name), " \t")))
	b.WriteByte(':')
	space := false
	started := false
	for _, c := range value {
		switch c {
		case '\r', '\n':
			continue
		case ' ', '\t':
			space = true
			continue
		}
		if space && started {
			b.WriteByte(' ')
		}
		space = false
		started = true
		b.WriteByte(c)
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

// canonHeaderSimple is "simple" header canonicalization (RFC 6376 §3.4.1): the field unchanged.
func canonHeaderSimple(raw []byte) []byte {
	if bytes.HasSuffix(raw, []byte("\r\n")) {
		return raw
	}
	return append(bytes.TrimRight(raw, "\r\n"), '\r', '\n')
}

// bodyCanonicalizer writes the canonical form of a body (RFC 6376 §3.4.3, §3.4.4) to w: lines
// end in CRLF, trailing empty lines are dropped, and in relaxed mode white space at line ends
// is removed and runs of it become one space. An empty simple body is one CRLF; an empty
// relaxed body is empty. It streams: memory does not grow with line length, and only the
// count of held-back empty lines is kept between writes.
type bodyCanonicalizer struct {
	w       io.Writer
	relaxed bool
	out     []byte
	content bool // the current line has content
	wsp     bool // relaxed: white space seen and not yet written
	cr      bool // a CR waiting to see whether LF follows
	empty   int  // empty lines held back, written only if a non-empty line follows
	wrote   bool
	err     error
}

func (c *bodyCanonicalizer) Write(p []byte) (int, error) {
	c.out = c.out[:0]
	for i := 0; i < len(p); {
		if n := c.wholeLine(p[i:]); n > 0 {
			i += n
			continue
		}
		b := p[i]
		if c.cr {
			c.cr = false
			if b == '\n' {
				c.endLine()
				i++
				continue
			}
			c.emit('\r')
		}
		if !c.special(b) {
			// A run of ordinary bytes is copied at once.
			j := i + 1
			for j < len(p) && !c.special(p[j]) {
				j++
			}
			c.emitRun(p[i:j])
			i = j
			continue
		}
		switch b {
		case '\r':
			c.cr = true
		case '\n':
			c.endLine() // a bare LF ends a line too
		default:
			c.wsp = true // relaxed white space
		}
		i++
	}
	c.flush()
	return len(p), c.err
}

// wholeLine is Write's fast path: at the start of a line, a whole line (up to and including
// its LF) with no CR but the one before its LF, and in relaxed mode no tab, is written at once
// (relaxed: without its trailing spaces, each run of spaces as one). It returns the octets
// taken, 0 when the line needs the octet-by-octet way.
func (c *bodyCanonicalizer) wholeLine(p []byte) int {
	if c.content || c.wsp || c.cr {
		return 0
	}
	end := bytes.IndexByte(p, '\n')
	if end < 0 {
		return 0
	}
	line := p[:end]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if bytes.IndexByte(line, '\r') >= 0 || c.relaxed && bytes.IndexByte(line, '\t') >= 0 {
		return 0
	}
	if !c.relaxed {
		if len(line) > 0 {
			c.emitRun(line)
		}
		c.endLine()
		return end + 1
	}
	line = bytes.TrimRight(line, " ")
	for len(line) > 0 {
		sp := bytes.IndexByte(line, ' ')
		if sp < 0 {
			c.emitRun(line)
			break
		}
		if sp > 0 {
			c.emitRun(line[:sp])
		}
		next := sp + 1
		for next < len(line) && line[next] == ' ' {
			next++
		}
		c.wsp = true // written as one space before the next run
		line = line[next:]
	}
	c.endLine()
	return end + 1
}

// special reports whether b is a byte canonicalization changes or looks at: the line-break
// characters, and in relaxed mode white space.
func (c *bodyCanonicalizer) special(b byte) bool {
	return b == '\r' || b == '\n' || c.relaxed && (b == ' ' || b == '\t')
}

func (c *bodyCanonicalizer) emit(b byte) {
	c.startContent()
	c.out = append(c.out, b)
}

func (c *bodyCanonicalizer) emitRun(run []byte) {
	c.startContent()
	c.out = append(c.out, run...)
}

// startContent writes what comes before content on a line: the empty lines held back, and in
// relaxed mode the one space that stands for a run of white space.
func (c *bodyCanonicalizer) startContent() {
	if !c.content {
		for ; c.empty > 0; c.empty-- {
			c.out = append(c.out, '\r', '\n')
		}
		c.content = true
	}
	if c.wsp {
		c.out = append(c.out, ' ')
		c.wsp = false
	}
}

func (c *bodyCanonicalizer) endLine() {
	if c.content {
		c.out = append(c.out, '\r', '\n')
	} else {
		c.empty++
	}
	c.content, c.wsp = false, false
}

func (c *bodyCanonicalizer) flush() {
	if len(c.out) > 0 && c.err == nil {
		_, c.err = c.w.Write(c.out)
		c.wrote = true
	}
	c.out = c.out[:0]
}

// Close ends a last line without a line break and writes the empty-body form.
func (c *bodyCanonicalizer) Close() error {
	if c.cr {
		c.cr = false
		c.emit('\r')
	}
	if c.content {
		c.endLine()
	}
	if !c.wrote && len(c.out) == 0 && !c.relaxed {
		c.out = append(c.out, '\r', '\n')
	}
	c.flush()
	return c.err
}

// limitWriter passes on at most n bytes (the l= body length) and drops the rest.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if l.n < 0 {
		return l.w.Write(p)
	}
	q := p
	if int64(len(q)) > l.n {
		q = q[:l.n]
	}
	l.n -= int64(len(q))
	if _, err := l.w.Write(q); err != nil {
		return 0, err
	}
	return len(p), nil
}

// withoutSignature returns the raw field with the value of its b= tag removed (RFC 6376 §3.7,
// RFC 8617 §5.1.1), keeping everything else, white space included.
func withoutSignature(raw []byte) []byte {
	colon := bytes.IndexByte(raw, ':')
	if colon < 0 {
		return raw
	}
	out := append([]byte(nil), raw[:colon+1]...)
	rest := raw[colon+1:]
	for len(rest) > 0 {
		seg := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, ';'); i >= 0 {
			seg, next = rest[:i+1], rest[i+1:]
		}
		if eq := bytes.IndexByte(seg, '='); eq >= 0 && string(bytes.Trim(seg[:eq], " \t\r\n")) == "b" {
			out = append(out, seg[:eq+1]...)
			if bytes.HasSuffix(seg, []byte(";")) {
				out = append(out, ';')
			} else if bytes.HasSuffix(seg, []byte("\r\n")) {
				out = append(out, '\r', '\n')
			}
		} else {
			out = append(out, seg...)
		}
		rest = next
	}
	return out
}
