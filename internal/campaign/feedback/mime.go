package feedback

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// Limits bound what a parse reads. The zero value takes the defaults.
type Limits struct {
	// MaxMessage is the most bytes read from the input in all, in bytes. Default: 16 MiB.
	MaxMessage int64
	// MaxPart is the most bytes of any one thing held in memory: a header, the
	// machine-readable part of a report, the header of the returned message, in bytes.
	// Longer ones are refused with ErrTooLarge; human-readable text is cut at this length
	// instead. Default: 256 KiB.
	MaxPart int64
}

const (
	defaultMaxMessage = 16 << 20
	defaultMaxPart    = 256 << 10
	maxDepth          = 4   // multipart nesting followed
	maxParts          = 100 // parts looked at, in all
)

// ErrTooLarge is returned when the input or one of its parts exceeds its Limits.
var ErrTooLarge = errors.New("report exceeds the size limit")

func (l Limits) withDefaults() Limits {
	if l.MaxMessage <= 0 {
		l.MaxMessage = defaultMaxMessage
	}
	if l.MaxPart <= 0 {
		l.MaxPart = defaultMaxPart
	}
	return l
}

// capped reads at most n bytes and then fails with ErrTooLarge, unlike io.LimitReader,
// which would end quietly.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n <= 0 {
		// One byte more tells a reader that ends right at the limit from one that goes on.
		var one [1]byte
		if n, err := c.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// readAllCapped reads r to its end into memory, refusing more than max bytes.
func readAllCapped(r io.Reader, max int64) ([]byte, error) {
	return truncatedOK(io.ReadAll(&capped{r: r, n: max}))
}

// truncatedOK keeps what was read of a part cut short by the end of the message (a
// multipart without its closing delimiter, RFC 2046 §5.1.1), which careless MTAs send.
func truncatedOK(b []byte, err error) ([]byte, error) {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return b, err
}

// readHeader reads a header section up to and including its blank line (or the end of the
// input), at most max bytes, and returns its fields.
func readHeader(br *bufio.Reader, max int64) (textproto.MIMEHeader, error) {
	var raw []byte
	line := 0 // bytes of the current line read so far
	for {
		chunk, err := br.ReadSlice('\n')
		raw = append(raw, chunk...)
		line += len(chunk)
		if int64(len(raw)) > max {
			return nil, fmt.Errorf("header: %w", ErrTooLarge)
		}
		switch {
		case err == nil: // a whole line
			if len(bytes.TrimRight(raw[len(raw)-line:], "\r\n")) == 0 {
				return parseFields(raw[:len(raw)-line]), nil
			}
			line = 0
		case errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			return parseFields(raw), nil
		default:
			return nil, fmt.Errorf("read header: %w", err)
		}
	}
}

// parseFields reads header fields (RFC 5322 §2.2) leniently: folded lines are unfolded,
// a line that is not a field is skipped, names are canonicalised, values trimmed.
func parseFields(raw []byte) textproto.MIMEHeader {
	h := textproto.MIMEHeader{}
	forEachField(raw, func(name, value string) { h.Add(name, value) })
	return h
}

// forEachField calls fn for each field of raw in order.
func forEachField(raw []byte, fn func(name, value string)) {
	var name string
	var value strings.Builder
	flush := func() {
		if name != "" {
			fn(name, strings.TrimSpace(value.String()))
		}
		name = ""
		value.Reset()
	}
	for len(raw) > 0 {
		var line []byte
		line, raw, _ = bytes.Cut(raw, []byte("\n"))
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if name != "" {
				value.WriteByte(' ')
				value.Write(bytes.TrimSpace(line))
			}
			continue
		}
		flush()
		k, v, ok := bytes.Cut(line, []byte(":"))
		k = bytes.TrimSpace(k)
		if !ok || len(k) == 0 || bytes.ContainsAny(k, " \t") {
			continue
		}
		name = textproto.CanonicalMIMEHeaderKey(string(k))
		value.Write(bytes.TrimSpace(v))
	}
	flush()
}

// collected is what a report holds for the parsers, gathered in one pass.
type collected struct {
	reportType string // the report-type of the multipart/report, lower-case
	status     []byte // message/delivery-status (or message/global-delivery-status)
	feedback   []byte // message/feedback-report
	original   textproto.MIMEHeader
	text       []byte // the human-readable text, cut at MaxPart
}

type collector struct {
	lim   Limits
	c     collected
	parts int
}

// collect reads a message and gathers its report parts (RFC 6522 multipart/report) and its
// text, streaming: only the parts it keeps, each within MaxPart, are held in memory.
func collect(r io.Reader, lim Limits) (*collected, error) {
	lim = lim.withDefaults()
	br := bufio.NewReader(&capped{r: r, n: lim.MaxMessage})
	top, err := readHeader(br, lim.MaxPart)
	if err != nil {
		return nil, err
	}
	col := &collector{lim: lim}
	if err := col.entity(top, br, 0); err != nil {
		return nil, err
	}
	return &col.c, nil
}

// entity handles one MIME entity's body, given its header.
func (col *collector) entity(h textproto.MIMEHeader, body io.Reader, depth int) error {
	col.parts++
	if col.parts > maxParts {
		_, err := io.Copy(io.Discard, body)
		return err
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil {
		mediaType, params = "text/plain", nil // RFC 2045 §5.2
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if mediaType == "multipart/report" && col.c.reportType == "" {
			col.c.reportType = strings.ToLower(params["report-type"])
		}
		if depth < maxDepth && params["boundary"] != "" {
			return col.multipart(body, params["boundary"], depth)
		}
		_, err := io.Copy(io.Discard, body)
		return err
	}
	decoded := decodeBody(h, body)
	switch mediaType {
	case "message/delivery-status", "message/global-delivery-status": // RFC 3464 §2, RFC 6533 §3
		return col.keep(&col.c.status, decoded, "delivery status")
	case "message/feedback-report": // RFC 5965 §3
		return col.keep(&col.c.feedback, decoded, "feedback report")
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/global-headers",
		"message/rfc822-headers": // not a registered type, but some MTAs send it
		if col.c.original != nil {
			break
		}
		br := bufio.NewReader(decoded)
		orig, err := readHeader(br, col.lim.MaxPart)
		if err != nil {
			return fmt.Errorf("returned message: %w", err)
		}
		col.c.original = orig
		_, err = truncatedOK(nil, discard(br))
		return err
	case "text/plain", "text/html":
		room := col.lim.MaxPart - int64(len(col.c.text))
		if room > 0 && (mediaType == "text/plain" || len(col.c.text) == 0) {
			// Text is only searched: what decodes before a bad encoding is kept.
			b, _ := io.ReadAll(io.LimitReader(decoded, room))
			col.c.text = append(append(col.c.text, b...), '\n')
			return discard(body)
		}
	}
	return discard(body) // skipped: no need to decode it
}

func (col *collector) keep(dst *[]byte, r io.Reader, what string) error {
	if *dst != nil {
		_, err := io.Copy(io.Discard, r)
		return err
	}
	b, err := readAllCapped(r, col.lim.MaxPart)
	if err != nil {
		return fmt.Errorf("%s part: %w", what, err)
	}
	*dst = append(b, '\n')
	return nil
}

func (col *collector) multipart(body io.Reader, boundary string, depth int) error {
	mr := multipart.NewReader(body, boundary)
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.Is(err, ErrTooLarge) {
				return err
			}
			// A broken multipart ends what can be read; keep what was found.
			return nil
		}
		if err := col.entity(p.Header, p, depth+1); err != nil {
			if errors.Is(err, ErrTooLarge) {
				return err
			}
			return nil
		}
	}
}

// decodeBody undoes a part's content transfer encoding (RFC 2045 §6).
func decodeBody(h textproto.MIMEHeader, body io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: body})
	case "quoted-printable":
		return quotedprintable.NewReader(body)
	}
	return body
}

// base64Cleaner drops the line breaks and white space between base64 characters.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b != '\r' && b != '\n' && b != ' ' && b != '\t' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

func discard(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}
