package message

// Limits on what Parse descends into; see the package doc.
const (
	// MaxDepth is the deepest nesting of parts: the message's root is at depth 0.
	MaxDepth = 100
	// MaxParts is the most parts one message may have, encapsulated roots included.
	MaxParts = 10000
)

// Parsed is the result of parsing one message.
type Parsed struct {
	Envelope Envelope
	Root     *Part // the message itself: its header and body
	Size     int64 // size of the stored message, in octets
}

// Envelope holds the fields of an IMAP ENVELOPE (RFC 9051 §7.5.2), raw: unfolded and trimmed
// but not decoded. An empty string or list stands for NIL: the header was absent or empty.
type Envelope struct {
	Date      string
	Subject   string
	From      []Address
	Sender    []Address // From when the Sender header is absent or empty
	ReplyTo   []Address // From when the Reply-To header is absent or empty
	To        []Address
	Cc        []Address
	Bcc       []Address
	InReplyTo string
	MessageID string
}

// Address is one element of an ENVELOPE address list, in the form of RFC 9051 §7.5.2 (and
// RFC 3501 before it). An empty string stands for NIL.
//
// Group syntax (RFC 5322 §3.4) is flattened as RFC 3501 does: a group starts with an Address
// whose Host is empty and whose Mailbox is the group's name (the display name, raw), and ends with
// an Address whose fields are all empty; the group's members stand between. Every other Address
// has a non-empty Mailbox and Host: one missing in the header reads MISSING_MAILBOX or
// MISSING_DOMAIN, as Dovecot writes them.
type Address struct {
	Name    string // display name (or, lacking one, the text of a trailing comment), raw
	Adl     string // obsolete source route, "@a.example,@b.example" (RFC 5322 §4.4)
	Mailbox string // local part as written, quotes included; the name of a group at its start
	Host    string // domain as written; empty at a group's start and end
}

// IsGroupStart reports whether a starts a group; a.Mailbox is then the group's name.
func (a Address) IsGroupStart() bool { return a.Host == "" && a.Mailbox != "" }

// IsGroupEnd reports whether a ends a group.
func (a Address) IsGroupEnd() bool { return a == Address{} }

// Param is one parameter of a Content-Type or Content-Disposition field.
type Param struct {
	Name  string // lower-case
	Value string // as given, with the quotes of a quoted-string removed
}

// Part is one node of a message's MIME tree (RFC 2045, RFC 2046): the message itself, a part of
// a multipart, or the root of an encapsulated message. See the package doc for the offsets.
//
// The fields give, in order, what RFC 9051 §7.5.2 BODYSTRUCTURE reports: body-fields, the
// message or text extras, then the extension data.
type Part struct {
	Type        string  // media type, lower-case: "text", "multipart", ...
	Subtype     string  // media subtype, lower-case: "plain", "mixed", ...
	Params      []Param // Content-Type parameters, in header order; RFC 2231 forms kept as given
	ID          string  // Content-ID, raw
	Description string  // Content-Description, raw (RFC 2047 words not decoded)
	Encoding    string  // Content-Transfer-Encoding, lower-case; "7bit" when absent
	MD5         string  // Content-MD5, raw (RFC 1864)

	Disposition       string   // Content-Disposition type, lower-case (RFC 2183); "" when absent
	DispositionParams []Param  // Content-Disposition parameters, in header order
	Language          []string // Content-Language tags (RFC 3282), as given
	Location          string   // Content-Location, raw (RFC 2557)

	HeaderStart int64 // offset of the first byte of the header
	BodyStart   int64 // offset of the first byte of the body, after the blank line
	BodyEnd     int64 // offset just past the body
	// Lines is the number of lines in the body, for text/* and message/rfc822 (or
	// message/global) parts, which are the ones that report it; 0 for the others.
	Lines int64

	// Parts are the children of a multipart, in order. A multipart always has at least one:
	// one without becomes text/plain.
	Parts []*Part

	// Envelope and Message describe the message encapsulated in a message/rfc822 or
	// message/global part (RFC 9051 §7.5.2). Both are nil for every other part, and for one whose
	// content is not parsed: encoded with base64 or quoted-printable (not allowed by RFC 2046
	// §5.2.1, RFC 6532 §3.5 aside), or beyond MaxDepth or MaxParts. The IMAP layer writes such a
	// part as a basic body.
	Envelope *Envelope
	Message  *Part
}

// Size returns the size of the body in octets, as BODYSTRUCTURE reports it.
func (p *Part) Size() int64 { return p.BodyEnd - p.BodyStart }

// IsMultipart reports whether p is a multipart with children.
func (p *Part) IsMultipart() bool { return p.Type == "multipart" }

// IsMessage reports whether p is a message/rfc822 or message/global part whose encapsulated
// message was parsed.
func (p *Part) IsMessage() bool { return p.Message != nil }

// Find returns the part at a section number (RFC 9051 §6.4.5); p must be the root of a message
// (Parsed.Root, or a Part's Message). An empty section is p itself. Numbers are 1-based: in a
// multipart, n is its n-th child; a message whose root is not a multipart has only part 1, its
// body; a message/rfc822 part followed by more numbers is entered, so that "3.1" is the first part
// of the multipart that part 3 encapsulates, or its single body. It returns false for a section
// that does not exist.
func (p *Part) Find(section []int) (*Part, bool) {
	cur, atRoot := p, true
	for i, n := range section {
		switch {
		case cur.IsMultipart():
			if n < 1 || n > len(cur.Parts) {
				return nil, false
			}
			cur = cur.Parts[n-1]
		case atRoot && n == 1:
			// The body of a non-multipart message is its part 1.
		default:
			return nil, false
		}
		atRoot = false
		if i+1 < len(section) && cur.Message != nil {
			cur, atRoot = cur.Message, true
		}
	}
	return cur, true
}
