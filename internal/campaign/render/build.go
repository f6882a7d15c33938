package render

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"
	"time"
	"unicode/utf8"

	"posthorn/internal/address"
)

// Header is the header of one campaign message.
type Header struct {
	From     address.Address // required
	FromName string
	ReplyTo  address.Address // zero: none
	To       address.Address // required
	ToName   string
	Subject  string
	Date     time.Time
	// MessageID is the id between the angle brackets; empty: a random one on the From domain.
	MessageID string
	// UnsubscribeURL (https) and UnsubscribeMailto make List-Unsubscribe (RFC 2369); with the
	// URL comes List-Unsubscribe-Post: List-Unsubscribe=One-Click (RFC 8058 §3.1).
	UnsubscribeURL    string
	UnsubscribeMailto address.Address
	ListID            string // RFC 2919 list-id; empty: no List-Id
	ListName          string
	FeedbackID        string // empty: no Feedback-ID
}

// foldWidth is where fields are folded (RFC 5322 §2.1.1: lines SHOULD be at most 78 characters).
const foldWidth = 78

// Build writes an RFC 5322 message with header h and the given bodies (either may be empty, not
// both) to w. Values from people are cleaned of control characters; a malformed URL, list-id or
// message id is an error, and nothing is written then.
func Build(w io.Writer, h Header, html, text []byte) error {
	bw := bufio.NewWriter(w)
	if err := build(bw, h, html, text); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

func build(bw *bufio.Writer, h Header, html, text []byte) error {
	if err := checkHeader(h); err != nil {
		return err
	}
	if len(html) == 0 && len(text) == 0 {
		return errors.New("message has no body")
	}
	var id [16]byte
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails (Go 1.24)
	messageID := h.MessageID
	if messageID == "" {
		messageID = hex.EncodeToString(id[:]) + "@" + h.From.Domain
	}
	writeField(bw, "From", formatAddress(h.FromName, h.From))
	if h.ReplyTo.Domain != "" {
		writeField(bw, "Reply-To", formatAddress("", h.ReplyTo))
	}
	writeField(bw, "To", formatAddress(h.ToName, h.To))
	writeField(bw, "Subject", encodeText(h.Subject))
	date := h.Date
	if date.IsZero() {
		date = time.Now()
	}
	writeField(bw, "Date", date.Format(time.RFC1123Z)) // RFC 5322 §3.3 date-time
	writeField(bw, "Message-ID", "<"+messageID+">")
	if h.ListID != "" {
		writeField(bw, "List-Id", listIDValue(h.ListName, h.ListID))
	}
	if unsub := listUnsubscribe(h); unsub != "" {
		writeField(bw, "List-Unsubscribe", unsub)
		if h.UnsubscribeURL != "" {
			writeField(bw, "List-Unsubscribe-Post", "List-Unsubscribe=One-Click")
		}
	}
	if h.FeedbackID != "" {
		writeField(bw, "Feedback-ID", h.FeedbackID)
	}
	writeField(bw, "MIME-Version", "1.0")
	if len(html) == 0 || len(text) == 0 {
		body, ctype := text, "text/plain"
		if len(text) == 0 {
			body, ctype = html, "text/html"
		}
		writePartHeader(bw, ctype)
		bw.WriteString("\r\n")
		return writeQP(bw, body)
	}
	// "=_" cannot occur in quoted-printable text (RFC 2045 §6.7 rule 1: "=" is always followed
	// by two hex digits or a line break), so the boundary never occurs in the parts (RFC 2046 §5.1.1).
	boundary := "=_ph" + hex.EncodeToString(id[:8])
	writeField(bw, "Content-Type", `multipart/alternative; boundary="`+boundary+`"`)
	bw.WriteString("\r\n")
	for _, part := range [2]struct {
		ctype string
		body  []byte
	}{{"text/plain", text}, {"text/html", html}} {
		bw.WriteString("--" + boundary + "\r\n")
		writePartHeader(bw, part.ctype)
		bw.WriteString("\r\n")
		if err := writeQP(bw, part.body); err != nil {
			return err
		}
		bw.WriteString("\r\n")
	}
	bw.WriteString("--" + boundary + "--\r\n")
	return nil
}

func writePartHeader(bw *bufio.Writer, ctype string) {
	writeField(bw, "Content-Type", ctype+"; charset=utf-8")
	writeField(bw, "Content-Transfer-Encoding", "quoted-printable")
}

// writeQP writes body in quoted-printable (RFC 2045 §6.7), line breaks as CRLF, ending in CRLF.
func writeQP(bw *bufio.Writer, body []byte) error {
	qp := quotedprintable.NewWriter(bw)
	if _, err := qp.Write(body); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	if err := qp.Close(); err != nil {
		return fmt.Errorf("encode body: %w", err)
	}
	if !bytes.HasSuffix(body, []byte("\n")) {
		bw.WriteString("\r\n")
	}
	return nil
}

// checkHeader refuses values that would break the header; the free text is cleaned instead.
func checkHeader(h Header) error {
	if h.From.Domain == "" || h.From.Local == "" {
		return errors.New("message has no from address")
	}
	if h.To.Domain == "" || h.To.Local == "" {
		return errors.New("message has no to address")
	}
	for _, a := range []address.Address{h.From, h.ReplyTo, h.To, h.UnsubscribeMailto} {
		if !safeToken(a.Local) || !safeToken(a.Domain) {
			return fmt.Errorf("address %q has a character not allowed in a header", a.String())
		}
	}
	if h.UnsubscribeURL != "" && (!strings.HasPrefix(h.UnsubscribeURL, "https://") || !safeToken(h.UnsubscribeURL) || strings.ContainsAny(h.UnsubscribeURL, "<>,")) {
		return fmt.Errorf("unsubscribe url %q: want https:// without spaces, commas or angle brackets", h.UnsubscribeURL)
	}
	if h.MessageID != "" && (!safeToken(h.MessageID) || strings.ContainsAny(h.MessageID, "<>") || strings.Count(h.MessageID, "@") != 1) {
		return fmt.Errorf("message id %q: want id-left@id-right", h.MessageID)
	}
	if h.ListID != "" && !validListID(h.ListID) {
		return fmt.Errorf("list id %q: want a dot-atom such as news.example.org (RFC 2919 §2)", h.ListID)
	}
	if !safeToken(strings.ReplaceAll(h.FeedbackID, " ", "")) {
		return fmt.Errorf("feedback id %q has a control character", h.FeedbackID)
	}
	return nil
}

// safeToken reports a value without control characters, spaces or non-ASCII bytes.
func safeToken(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 {
			if c <= ' ' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		// UTF-8 is allowed in addresses (RFC 6532), never a C1 control or a line separator.
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || isControl(r) {
			return false
		}
		i += size
	}
	return true
}

// isControl reports the characters never written into a header: C0, DEL, C1, and the Unicode
// line and paragraph separators.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029
}

// cleanText returns s with each control character (and invalid UTF-8) replaced by a space and the
// spaces at its ends removed, so that no value can start a new header line.
func cleanText(s string) string {
	clean := true
	for _, r := range s {
		if isControl(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if !clean {
		s = strings.Map(func(r rune) rune {
			if isControl(r) || r == utf8.RuneError {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

// writeClean appends the cleaned text of b to out (the rendered subject).
func writeClean(out *bytes.Buffer, b []byte) {
	out.WriteString(cleanText(string(b)))
}

// encodeText gives unstructured text (RFC 5322 §3.2.5): as is when ASCII, else RFC 2047 encoded
// words (the mime package splits them at 75 characters, with spaces between for folding).
func encodeText(s string) string {
	s = cleanText(s)
	if isASCII(s) {
		return s
	}
	return mime.QEncoding.Encode("utf-8", s)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// formatAddress gives name-addr or addr-spec (RFC 5322 §3.4): the display name as atoms, a
// quoted string, or RFC 2047 encoded words (RFC 2047 §5 (3)).
func formatAddress(name string, a address.Address) string {
	name = cleanText(name)
	if name == "" {
		return a.String()
	}
	return phrase(name) + " <" + a.String() + ">"
}

// phrase encodes a display name or a List-Id description.
func phrase(name string) string {
	if !isASCII(name) {
		// RFC 2047 §5 (3): a "Q" word in a phrase may hold only letters, digits and !*+-/=_,
		// which the mime package does not ensure; "B" words hold anything.
		for i := 0; i < len(name); i++ {
			if c := name[i]; c < 0x80 && c != ' ' && !isAlnum(c) && strings.IndexByte("!*+-/", c) < 0 {
				return mime.BEncoding.Encode("utf-8", name)
			}
		}
		return mime.QEncoding.Encode("utf-8", name)
	}
	atoms := true
	for i := 0; i < len(name); i++ {
		if c := name[i]; c != ' ' && !isAtext(c) {
			atoms = false
			break
		}
	}
	if atoms && !strings.Contains(name, "=?") {
		return name
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		if c := name[i]; c == '"' || c == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	b.WriteByte('"')
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// isAtext reports an RFC 5322 §3.2.3 atext character.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

func listUnsubscribe(h Header) string {
	var parts []string
	if h.UnsubscribeURL != "" {
		parts = append(parts, "<"+h.UnsubscribeURL+">")
	}
	if h.UnsubscribeMailto.Domain != "" {
		parts = append(parts, "<mailto:"+h.UnsubscribeMailto.String()+">")
	}
	return strings.Join(parts, ", ")
}

func listIDValue(name, id string) string {
	if name = cleanText(name); name == "" {
		return "<" + id + ">"
	}
	return phrase(name) + " <" + id + ">"
}

func validListID(id string) bool {
	if !strings.Contains(id, ".") || strings.HasPrefix(id, ".") || strings.HasSuffix(id, ".") || strings.Contains(id, "..") || len(id) > 255 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c != '.' && !isAtext(c) {
			return false
		}
	}
	return true
}

// ListID makes an RFC 2919 list-id from a list's name and the sending domain: the name
// lower-cased, each run of other characters than letters and digits turned into one hyphen,
// then "." and the domain ("Monthly News", "example.org" -> "monthly-news.example.org").
func ListID(name, domain string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			continue
		}
		dash = true
	}
	label := b.String()
	if label == "" {
		label = "list"
	}
	return label + "." + domain
}

// FeedbackID makes a Feedback-ID value the way Gmail's feedback loop reads it: identifiers
// separated by colons, the sender's last (here "campaign:list:sender"). Colons, spaces and control
// characters in the identifiers become hyphens.
func FeedbackID(campaign, list, sender string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r == ':' || r == ' ' || isControl(r) || r >= 0x80 {
				return '-'
			}
			return r
		}, s)
	}
	return clean(campaign) + ":" + clean(list) + ":" + clean(sender)
}

// writeField writes "Name: value" CRLF, folding at spaces so that lines stay within foldWidth
// where the value allows it (RFC 5322 §2.2.3: a fold is a CRLF put before white space).
func writeField(bw *bufio.Writer, name, value string) {
	bw.WriteString(name)
	bw.WriteString(":")
	col := len(name) + 1
	for value != "" {
		word := value
		rest := ""
		if i := strings.IndexByte(value[1:], ' '); i >= 0 {
			word, rest = value[:i+1], value[i+1:]
		}
		if word[0] != ' ' {
			word = " " + word
		}
		if col+len(word) > foldWidth && word != " " {
			bw.WriteString("\r\n")
			col = 0
		}
		bw.WriteString(word)
		col += len(word)
		value = rest
	}
	bw.WriteString("\r\n")
}
