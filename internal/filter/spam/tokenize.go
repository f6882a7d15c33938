package spam

import (
	"bufio"
	"hash/fnv"
	"io"
	"net/mail"
	"net/textproto"
	"strings"

	"posthorn/internal/message"
)

// Bounds of what one message may cost.
const (
	// MaxTokens is the most distinct tokens taken from one message.
	MaxTokens = 3000
	// MaxTextBytes is the most decoded text (all parts together) read from one message.
	MaxTextBytes = 256 << 10
	// maxHeaderBytes is the most header octets read, per header section.
	maxHeaderBytes = 64 << 10
	// minWord and maxWord bound the length, in octets, of a body word taken as it is.
	minWord, maxWord = 3, 20
	// maxURLs is the most URLs whose domains are kept for blocklist lookups.
	maxURLs = 20
)

// token is one token of a message and its stored hash.
type token struct {
	text string
	hash uint64
}

// hashToken is the stored form of a token: 64-bit FNV-1a of its text.
func hashToken(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// Features are what the heuristics look at, gathered while tokenizing.
type Features struct {
	From          string   // the From address, lower-cased; "" when absent or unparsable
	HasDate       bool     // a Date field
	HasMessageID  bool     // a Message-ID field
	Recipients    int      // addresses in To and Cc
	HTML          bool     // a text/html part
	PlainText     bool     // a text/plain part with some text in it
	LinkMismatch  string   // the first link whose text shows another domain than it goes to
	GTUBE         bool     // the GTUBE test string
	Domains       []string // registrable domains of the URLs, distinct, at most maxURLs
	Truncated     bool     // MaxTokens or MaxTextBytes was reached
	textRemaining int
}

// Tokens are a message's distinct tokens in the order first seen, and its features.
type Tokens struct {
	List     []token
	Features Features
	seen     map[string]struct{}
	domains  map[string]struct{}
	urls     map[string]struct{} // URLs tokenised already, up to maxRememberedURLs
}

// maxRememberedURLs bounds the URLs a message's tokenising remembers, to skip their repeats.
const maxRememberedURLs = 1000

// Hashes returns the stored forms of the tokens.
func (t *Tokens) Hashes() []uint64 {
	out := make([]uint64, len(t.List))
	for i, tok := range t.List {
		out[i] = tok.hash
	}
	return out
}

// add takes a token unless it was seen or the message has enough.
func (t *Tokens) add(s string) {
	if _, ok := t.seen[s]; ok {
		return
	}
	if len(t.List) >= MaxTokens {
		t.Features.Truncated = true
		return
	}
	t.seen[s] = struct{}{}
	t.List = append(t.List, token{text: s, hash: hashToken(s)})
}

// Tokenize reads the message of size octets in r and returns its tokens (see the package doc).
// It fails only when r does.
func Tokenize(r io.ReaderAt, size int64) (*Tokens, error) {
	parsed, err := message.Parse(r, size)
	if err != nil {
		return nil, err
	}
	return TokenizeParsed(r, parsed)
}

// TokenizeParsed is Tokenize of a message already parsed: parsed is message.Parse's result for
// the message in r, which the inbound filter parses once for all its checks.
func TokenizeParsed(r io.ReaderAt, parsed *message.Parsed) (*Tokens, error) {
	t := &Tokens{seen: map[string]struct{}{}, domains: map[string]struct{}{}, urls: map[string]struct{}{}}
	t.Features.textRemaining = MaxTextBytes
	src := &stickyReaderAt{r: r}
	t.header(src.section(parsed.Root.HeaderStart, parsed.Root.BodyStart), true)
	t.part(src, parsed.Root)
	if src.err != nil {
		return nil, src.err
	}
	if !t.Features.PlainText && t.Features.HTML {
		t.add("struct:html-only")
	}
	return t, nil
}

// stickyReaderAt keeps the first error of the message's reader, which the lenient decoders
// above it would otherwise take for the end of a part.
type stickyReaderAt struct {
	r   io.ReaderAt
	err error
}

func (s *stickyReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := s.r.ReadAt(p, off)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// section reads [start, end) of the message.
func (s *stickyReaderAt) section(start, end int64) io.Reader {
	return io.NewSectionReader(s, start, end-start)
}

// part tokenizes the content of p and of the parts below it.
func (t *Tokens) part(src *stickyReaderAt, p *message.Part) {
	if src.err != nil {
		return
	}
	mediaType := p.Type + "/" + p.Subtype
	t.add("ct:" + mediaType)
	if p.Encoding != "7bit" {
		t.add("cte:" + p.Encoding)
	}
	for _, prm := range append(p.Params, p.DispositionParams...) {
		switch strings.ToLower(prm.Name) {
		case "charset":
			t.add("charset:" + strings.ToLower(prm.Value))
		case "name", "filename":
			name := strings.ToLower(message.DecodeWords(prm.Value))
			if i := strings.LastIndexByte(name, '.'); i >= 0 && len(name)-i <= 6 {
				t.add("filename-ext:" + name[i+1:])
			}
		}
	}
	switch {
	case p.IsMultipart():
		for _, c := range p.Parts {
			t.part(src, c)
		}
	case p.IsMessage():
		t.header(src.section(p.Message.HeaderStart, p.Message.BodyStart), false)
		t.part(src, p.Message)
	case p.Type == "text":
		if t.Features.textRemaining <= 0 {
			t.Features.Truncated = true
			return
		}
		body := message.DecodedText(src.section(p.BodyStart, p.BodyEnd), p)
		text, _ := io.ReadAll(io.LimitReader(body, int64(t.Features.textRemaining)+1))
		if len(text) > t.Features.textRemaining {
			text = text[:t.Features.textRemaining]
			t.Features.Truncated = true
		}
		t.Features.textRemaining -= len(text)
		if p.Subtype == "html" {
			t.Features.HTML = true
			t.html(string(text))
		} else {
			if strings.TrimSpace(string(text)) != "" && p.Subtype == "plain" {
				t.Features.PlainText = true
			}
			t.text(string(text), "")
		}
	}
}

// gtube is the Generic Test for Unsolicited Bulk Email (SpamAssassin): a message holding it
// must be classified as spam.
const gtube = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"

// text tokenizes plain text: its URLs, then its words, each with prefix.
func (t *Tokens) text(s, prefix string) {
	if strings.Contains(s, gtube) {
		t.Features.GTUBE = true
	}
	// FieldsSeq, not Fields: a slice of every word of up to MaxTextBytes of text is not needed.
	for w := range strings.FieldsSeq(s) {
		t.word(w, prefix)
	}
}

// trimChars are taken off both ends of a word: quotes, brackets and sentence punctuation.
const trimChars = "\"'`()[]{}<>,.;:*|"

func isTrimmed(r rune) bool { return r < 128 && strings.IndexByte(trimChars, byte(r)) >= 0 }

// trim takes trimChars off both ends of w. They are ASCII, so a byte of a multi-byte
// character is never one of them.
func trim(w string) string {
	start, end := 0, len(w)
	for start < end && strings.IndexByte(trimChars, w[start]) >= 0 {
		start++
	}
	for end > start && strings.IndexByte(trimChars, w[end-1]) >= 0 {
		end--
	}
	return w[start:end]
}

// word adds the token(s) of one white-space separated word.
func (t *Tokens) word(w, prefix string) {
	if u, ok := urlOf(w); ok {
		t.url(u)
		return
	}
	w = strings.ToLower(trim(w))
	switch {
	case len(w) < minWord:
	case len(w) <= maxWord:
		t.add(prefix + w)
	case strings.Contains(w, "@") && len(w) < 100:
		// An address in the text: its domain, and that there was one.
		t.add(prefix + "email:" + w[strings.LastIndexByte(w, '@')+1:])
	default:
		// SpamBayes' "skip" tokens: a long word says something through its first
		// character and its length class, not its exact text.
		t.add(prefix + "skip:" + w[:1] + " " + itoa(len(w)/10*10))
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}

// maxFields is the most header fields of one header section that give tokens.
const maxFields = 200

// header tokenizes a header section: a presence token per field name, and the words of its
// fields. Fields are unfolded (RFC 5322 §2.2.3) by textproto; a line that is not a field (an
// mbox "From " line) is skipped. top is the message's own header (an encapsulated message's header gives tokens but
// no Features).
func (t *Tokens) header(r io.Reader, top bool) {
	tp := textproto.NewReader(bufio.NewReaderSize(io.LimitReader(r, maxHeaderBytes), 8<<10))
	for fields := 0; fields < maxFields; {
		line, err := tp.ReadContinuedLine()
		if name, value, ok := strings.Cut(line, ":"); ok && isFieldName(name) {
			t.field(strings.ToLower(name), strings.TrimSpace(value), top)
			fields++
		}
		if err != nil || line == "" {
			return
		}
	}
}

// isFieldName reports whether s is a header field name (RFC 5322 §3.6.8: printable ASCII but
// the colon, no space), which an mbox "From " line or a stray body line is not.
func isFieldName(s string) bool {
	if s == "" || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// unwordedFields are the fields whose words are left out: the date, which would teach the
// model when the training mail was sent, and signatures, whose base64 is noise.
var unwordedFields = map[string]bool{
	"date": true, "dkim-signature": true, "domainkey-signature": true, "arc-seal": true,
	"arc-message-signature": true, "x-google-dkim-signature": true,
}

// addressFields are the header fields whose addresses become tokens.
var addressFields = map[string]bool{
	"from": true, "to": true, "cc": true, "reply-to": true, "sender": true, "return-path": true,
}

// field adds the tokens of one header field.
func (t *Tokens) field(name, value string, top bool) {
	t.add("hdr:" + name)
	if top {
		switch name {
		case "date":
			t.Features.HasDate = true
		case "message-id":
			t.Features.HasMessageID = true
		case "from":
			if a, err := mail.ParseAddress(message.DecodeWords(value)); err == nil {
				t.Features.From = strings.ToLower(a.Address)
			}
		case "to", "cc":
			t.Features.Recipients += strings.Count(value, "@")
		}
	}
	switch {
	case addressFields[name]:
		t.addresses(name, message.DecodeWords(value))
	case name == "message-id":
		if at := strings.LastIndexByte(value, '@'); at >= 0 {
			t.add("message-id:@" + strings.ToLower(strings.Trim(value[at+1:], "<> ")))
		} else {
			t.add("message-id:no-at")
		}
	case name == "received":
		t.received(value)
	case !unwordedFields[name]:
		value = message.DecodeWords(value)
		for _, w := range strings.Fields(value) {
			w = strings.ToLower(trim(w))
			if len(w) >= 1 && len(w) <= 40 {
				t.add(name + ":" + w)
			}
		}
		if name == "subject" {
			t.subject(value)
		}
	}
}

// subject adds what the shape of a subject says: shouting, money, runs of punctuation.
func (t *Tokens) subject(s string) {
	letters, upper := 0, 0
	for _, c := range s {
		if c >= 'A' && c <= 'Z' {
			upper++
		}
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' {
			letters++
		}
	}
	if letters >= 8 && upper*10 >= letters*8 {
		t.add("subject-shape:upper")
	}
	for _, p := range []string{"!!", "$", "%", "??"} {
		if strings.Contains(s, p) {
			t.add("subject-shape:" + p)
		}
	}
}

// addresses adds the tokens of an address field: each address, its domain, and the words of
// display names.
func (t *Tokens) addresses(name, value string) {
	list, err := mail.ParseAddressList(value)
	if err != nil {
		t.add(name + ":unparsable")
		for _, w := range strings.Fields(value) {
			w = strings.ToLower(trim(w))
			if len(w) >= minWord && len(w) <= 40 {
				t.add(name + ":" + w)
			}
		}
		return
	}
	if len(list) > 3 {
		t.add(name + ":many")
		list = list[:3]
	}
	for _, a := range list {
		addr := strings.ToLower(a.Address)
		t.add(name + ":addr:" + addr)
		if at := strings.LastIndexByte(addr, '@'); at >= 0 {
			t.add(name + ":domain:" + addr[at+1:])
		}
		if a.Name == "" {
			t.add(name + ":no-name")
		}
		for _, w := range strings.Fields(a.Name) {
			t.add(name + ":name:" + strings.ToLower(trim(w)))
		}
	}
}

// received adds the host names and address prefixes a Received field names.
func (t *Tokens) received(value string) {
	for _, w := range strings.FieldsFunc(value, func(c rune) bool {
		return c == ' ' || c == '(' || c == ')' || c == '[' || c == ']' || c == ';' || c == '\t'
	}) {
		w = strings.ToLower(trim(w))
		switch {
		case isIPv4(w):
			parts := strings.Split(w, ".")
			t.add("received:ip:" + parts[0] + "." + parts[1])
			t.add("received:ip:" + strings.Join(parts[:3], "."))
		case strings.Count(w, ".") >= 1 && len(w) <= 80 && !strings.ContainsAny(w, "@=<>"):
			labels := strings.Split(w, ".")
			if len(labels) >= 2 {
				t.add("received:" + strings.Join(labels[len(labels)-2:], "."))
			}
		}
	}
}

func isIPv4(s string) bool {
	if strings.Count(s, ".") != 3 {
		return false
	}
	for _, p := range strings.Split(s, ".") {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}
