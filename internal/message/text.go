package message

import (
	"bufio"
	"errors"
	"io"
	"mime"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/encoding/htmlindex"
)

// MaxText bounds each field of a Text, in octets: text beyond it is not searchable. Indexing
// costs the store about a millisecond per KiB of varied text (SQLite FTS5, trigrams), in the
// transaction that delivers the message, so a message with huge text must not hold deliveries
// up for long.
const MaxText = 128 << 10

// unindexedFields are header fields left out of Text.Header: signatures, base64 that no one
// searches for and that would cost the index more than the rest of the header.
var unindexedFields = map[string]bool{
	"dkim-signature": true, "x-google-dkim-signature": true, "arc-seal": true, "arc-message-signature": true,
}

// IndexedField reports whether the header field called name is part of Text.Header.
func IndexedField(name string) bool { return !unindexedFields[strings.ToLower(name)] }

// Text is the searchable text of a message, computed at delivery for a full-text index: what
// IMAP SEARCH BODY and TEXT (RFC 9051 §6.4.4) match. Every run of white space in it is a single
// space (see NormalizeText), so a search string must be normalised the same way.
type Text struct {
	// Header holds the fields of the message's own header, "Name: value" each, unfolded and
	// with RFC 2047 encoded words decoded; signature fields (DKIM-Signature, ARC-Seal, ...) are
	// left out.
	Header string
	// Body holds, in order, the text of the body's text/* and message/* leaves, with their
	// Content-Transfer-Encoding and charset decoded to UTF-8 and HTML reduced to the text a
	// reader sees (no tags, no scripts or style sheets, entities decoded), and the header
	// fields of every encapsulated message/rfc822. Of a multipart/alternative with a
	// text/plain alternative, only that one. Other parts (images, PDF, ...) give none.
	Body string
}

// ExtractText reads the searchable text of a message stored in r whose structure Parse
// returned as root, up to MaxText octets for each field. Decoding is lenient: a malformed part
// ends that part's text. It fails only when r does.
func ExtractText(r io.ReaderAt, root *Part) (Text, error) {
	src := &ioErr{}
	header := newTextBuilder(MaxText)
	header.header(src.section(r, root.HeaderStart, root.BodyStart))
	body := newTextBuilder(MaxText)
	body.walk(src, r, root)
	if src.err != nil {
		return Text{}, src.err
	}
	return Text{Header: header.String(), Body: body.String()}, nil
}

// NormalizeText turns every run of white space (and control characters, and invalid UTF-8) in
// s into a single space, as the text of ExtractText has it.
func NormalizeText(s string) string {
	t := newTextBuilder(len(s) + 1)
	t.writeString(s)
	return t.String()
}

// ioErr keeps the first error of the message's reader, so that the lenient decoders above it
// cannot hide an I/O failure.
type ioErr struct{ err error }

func (e *ioErr) section(r io.ReaderAt, start, end int64) io.Reader {
	return &errReader{r: io.NewSectionReader(r, start, end-start), e: e}
}

type errReader struct {
	r io.Reader
	e *ioErr
}

func (r *errReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.e.err == nil {
		r.e.err = err
	}
	return n, err
}

// textBuilder collects normalised text up to a limit in octets.
type textBuilder struct {
	buf     []byte
	limit   int
	pending bool // white space seen since the last character written
	full    bool
}

func newTextBuilder(limit int) *textBuilder { return &textBuilder{limit: limit} }

func (t *textBuilder) String() string {
	if t.pending && !t.full && len(t.buf) < t.limit {
		t.buf = append(t.buf, ' ')
		t.pending = false
	}
	return string(t.buf)
}

// separate makes sure what follows is not joined to what came before.
func (t *textBuilder) separate() {
	if len(t.buf) > 0 {
		t.pending = true
	}
}

// add appends text that holds no white space, control character or invalid UTF-8, after the
// pending space, or marks the builder full if it does not fit.
func (t *textBuilder) add(p []byte) {
	n := len(p)
	if t.pending {
		n++
	}
	if len(t.buf)+n > t.limit {
		t.full = true
		return
	}
	if t.pending {
		t.buf = append(t.buf, ' ')
		t.pending = false
	}
	t.buf = append(t.buf, p...)
}

// write appends text: runs of printable ASCII as they are, other characters one by one, white
// space, control characters and invalid UTF-8 as a pending space. A character cut at the end of
// p is taken as invalid: callers pass whole characters (see copyText).
func (t *textBuilder) write(p []byte) {
	for i := 0; i < len(p) && !t.full; {
		if c := p[i]; c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				t.pending = true
				i++
				continue
			}
			j := i + 1
			for j < len(p) && p[j] > ' ' && p[j] < 0x7f {
				j++
			}
			t.add(p[i:j])
			i = j
			continue
		}
		r, n := utf8.DecodeRune(p[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || unicode.IsControl(r) {
			t.pending = true
		} else {
			t.add(p[i : i+n])
		}
		i += n
	}
}

func (t *textBuilder) writeString(s string) { t.write([]byte(s)) }

// copyText writes what r yields until r ends or the text is full, a chunk at a time; a
// character split between two chunks is kept for the next.
func (t *textBuilder) copyText(r io.Reader) {
	buf := make([]byte, 16<<10)
	keep := 0
	for !t.full {
		n, err := r.Read(buf[keep:])
		n += keep
		end := n
		// Hold back an incomplete character at the end, unless the text ends here.
		for k := 1; err == nil && k < utf8.UTFMax && k <= n; k++ {
			c := buf[n-k]
			if c < utf8.RuneSelf {
				break
			}
			if utf8.RuneStart(c) {
				if !utf8.FullRune(buf[n-k : n]) {
					end = n - k
				}
				break
			}
		}
		t.write(buf[:end])
		keep = copy(buf, buf[end:n])
		if err != nil {
			return
		}
	}
}

// header writes the fields of a header section: "Name: value", unfolded, encoded words
// decoded, one field after another.
func (t *textBuilder) header(r io.Reader) {
	br := bufio.NewReaderSize(io.LimitReader(r, 4*MaxText), 16<<10)
	var field strings.Builder
	flush := func() {
		f := field.String()
		field.Reset()
		name, _, _ := strings.Cut(f, ":")
		if f != "" && !unindexedFields[strings.ToLower(strings.TrimSpace(name))] {
			t.separate()
			t.writeString(DecodeWords(f))
		}
	}
	for !t.full {
		line, err := br.ReadString('\n')
		trimmed := strings.TrimRight(line, "\r\n")
		switch {
		case trimmed == "" && line != "":
			err = io.EOF // the blank line that ends the header
		case trimmed != "" && (trimmed[0] == ' ' || trimmed[0] == '\t'):
			field.WriteString(trimmed) // a continuation line: RFC 5322 §2.2.3 unfolding
		case trimmed != "":
			flush()
			field.WriteString(trimmed)
		}
		if err != nil {
			break
		}
	}
	flush()
}

var wordDecoder = &mime.WordDecoder{CharsetReader: CharsetReader}

// DecodeWords decodes the RFC 2047 encoded words of a header value, leaving it as it is when
// it cannot.
func DecodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// walk writes the text of part p and of the parts below it.
func (t *textBuilder) walk(src *ioErr, r io.ReaderAt, p *Part) {
	if t.full || src.err != nil {
		return
	}
	switch {
	case p.IsMultipart():
		if plain := plainAlternative(p); plain != nil {
			t.walk(src, r, plain)
			return
		}
		for _, c := range p.Parts {
			t.walk(src, r, c)
		}
	case p.IsMessage():
		t.separate()
		t.header(src.section(r, p.Message.HeaderStart, p.Message.BodyStart))
		t.walk(src, r, p.Message)
	case p.Type == "text" || p.Type == "message":
		t.separate()
		body := DecodedText(src.section(r, p.BodyStart, p.BodyEnd), p)
		if p.Type == "text" && p.Subtype == "html" {
			t.html(body)
		} else {
			t.copyText(body)
		}
	}
}

// plainAlternative returns the first text/plain part of a multipart/alternative, or nil. Its
// alternatives are the same content in other forms (RFC 2046 §5.1.4), usually plain text and
// HTML: indexing one halves the cost of indexing the common HTML mail, and the plain one needs
// no reduction.
func plainAlternative(p *Part) *Part {
	if p.Subtype != "alternative" {
		return nil
	}
	for _, c := range p.Parts {
		if c.Type == "text" && c.Subtype == "plain" {
			return c
		}
	}
	return nil
}

// inlineElements are the HTML elements that do not separate words: "<b>wo</b>rd" reads
// "word". Every other tag, and <br>, separates what is before it from what follows.
var inlineElements = map[string]bool{
	"a": true, "abbr": true, "b": true, "bdi": true, "bdo": true, "big": true, "cite": true,
	"code": true, "data": true, "dfn": true, "em": true, "font": true, "i": true, "kbd": true,
	"mark": true, "q": true, "s": true, "samp": true, "small": true, "span": true, "strike": true,
	"strong": true, "sub": true, "sup": true, "time": true, "tt": true, "u": true, "var": true,
}

// html writes the text of an HTML document as a reader sees it: the text between tags with
// entities decoded, without comments, scripts and style sheets.
func (t *textBuilder) html(r io.Reader) {
	z := html.NewTokenizer(r)
	z.SetMaxBuf(MaxText) // a longer token ends the text
	hidden := ""         // the script or style element being skipped
	for !t.full {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if hidden == "" {
				t.write(z.Text())
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			tag := string(name)
			switch {
			case hidden != "":
				if tag == hidden && tt == html.EndTagToken {
					hidden = ""
				}
			case (tag == "script" || tag == "style") && tt == html.StartTagToken:
				hidden = tag
			}
			if !inlineElements[tag] {
				t.separate()
			}
		}
	}
}

// DecodedText returns the content of a text part read from r, with its
// Content-Transfer-Encoding and charset decoded to UTF-8. Decoding is lenient: malformed input
// ends the text (io.EOF) rather than failing.
func DecodedText(r io.Reader, p *Part) io.Reader {
	r = transferDecoded(r, p)
	for _, param := range p.Params {
		if param.Name == "charset" {
			if cr, err := CharsetReader(param.Value, r); err == nil {
				r = cr
			}
		}
	}
	return lenientReader{r}
}

// CharsetReader decodes text in the named charset to UTF-8 (WHATWG labels, which cover what
// mail uses: ISO-8859-*, Windows-125*, KOI8, Shift_JIS, GB18030, ...).
func CharsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "", "utf-8", "us-ascii", "utf8", "ascii":
		return r, nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}

// lenientReader ends the text at the first error.
type lenientReader struct{ r io.Reader }

func (l lenientReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		err = io.EOF
	}
	return n, err
}

// base64Clean drops what is not base64 alphabet or padding from an encoded body (RFC 2045
// §6.8: "all line breaks or other characters not found in Table 1 must be ignored").
// encoding/base64 skips only CR and LF.
type base64Clean struct{ r io.Reader }

func (c *base64Clean) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		k := 0
		for _, b := range p[:n] {
			if 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '+' || b == '/' || b == '=' {
				p[k] = b
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}
