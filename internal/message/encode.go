package message

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// The stored form of an envelope and a structure is binary, not JSON: raw header values may hold
// any bytes (8-bit headers that are not UTF-8 are common), which JSON strings cannot carry, and the
// binary form is about half the size and quick to read on every FETCH.
//
// Both start with a version byte. Integers are unsigned varints (encoding/binary), strings a
// varint length and the bytes, lists a varint count and the elements.
//
//	envelope  = version date subject from sender reply-to to cc bcc in-reply-to message-id
//	            (sender and reply-to are stored empty when equal to from; reading restores them)
//	addresses = count *(name adl mailbox host)
//	structure = version part
//	part      = type subtype params id description encoding md5 disposition disposition-params
//	            languages location header-start (body-start - header-start) (body-end - body-start)
//	            lines count *part has-message [envelope-without-version part]
//	params    = count *(name value)
const encodingVersion = 1

// ErrCorrupt is wrapped by the errors of UnmarshalEnvelope and UnmarshalStructure.
var ErrCorrupt = errors.New("corrupt message structure")

// Marshal returns the stored forms of the envelope and of the structure.
func (p *Parsed) Marshal() (envelope, structure []byte, err error) {
	if p.Root == nil {
		return nil, nil, errors.New("marshal message: no root part")
	}
	envelope = appendEnvelope([]byte{encodingVersion}, &p.Envelope)
	structure = appendPart([]byte{encodingVersion}, p.Root)
	return envelope, structure, nil
}

// UnmarshalEnvelope reads an envelope stored by Marshal.
func UnmarshalEnvelope(b []byte) (*Envelope, error) {
	d, err := newDecoder(b)
	if err != nil {
		return nil, err
	}
	env := d.envelope()
	if err := d.finish(); err != nil {
		return nil, err
	}
	return env, nil
}

// UnmarshalStructure reads a structure stored by Marshal, and checks its offset invariants.
func UnmarshalStructure(b []byte) (*Part, error) {
	d, err := newDecoder(b)
	if err != nil {
		return nil, err
	}
	root := d.part(0)
	if err := d.finish(); err != nil {
		return nil, err
	}
	if err := checkPart(root, 0, root.BodyEnd); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return root, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAddresses(b []byte, list []Address) []byte {
	b = binary.AppendUvarint(b, uint64(len(list)))
	for _, a := range list {
		b = appendString(b, a.Name)
		b = appendString(b, a.Adl)
		b = appendString(b, a.Mailbox)
		b = appendString(b, a.Host)
	}
	return b
}

func appendParams(b []byte, params []Param) []byte {
	b = binary.AppendUvarint(b, uint64(len(params)))
	for _, prm := range params {
		b = appendString(b, prm.Name)
		b = appendString(b, prm.Value)
	}
	return b
}

func appendEnvelope(b []byte, env *Envelope) []byte {
	sender, replyTo := env.Sender, env.ReplyTo
	if slices.Equal(sender, env.From) {
		sender = nil
	}
	if slices.Equal(replyTo, env.From) {
		replyTo = nil
	}
	b = appendString(b, env.Date)
	b = appendString(b, env.Subject)
	for _, list := range [][]Address{env.From, sender, replyTo, env.To, env.Cc, env.Bcc} {
		b = appendAddresses(b, list)
	}
	b = appendString(b, env.InReplyTo)
	return appendString(b, env.MessageID)
}

func appendPart(b []byte, pt *Part) []byte {
	for _, s := range []string{pt.Type, pt.Subtype} {
		b = appendString(b, s)
	}
	b = appendParams(b, pt.Params)
	for _, s := range []string{pt.ID, pt.Description, pt.Encoding, pt.MD5, pt.Disposition} {
		b = appendString(b, s)
	}
	b = appendParams(b, pt.DispositionParams)
	b = binary.AppendUvarint(b, uint64(len(pt.Language)))
	for _, s := range pt.Language {
		b = appendString(b, s)
	}
	b = appendString(b, pt.Location)
	for _, n := range []int64{pt.HeaderStart, pt.BodyStart - pt.HeaderStart, pt.BodyEnd - pt.BodyStart, pt.Lines} {
		b = binary.AppendUvarint(b, uint64(n))
	}
	b = binary.AppendUvarint(b, uint64(len(pt.Parts)))
	for _, c := range pt.Parts {
		b = appendPart(b, c)
	}
	if pt.Message == nil || pt.Envelope == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = appendEnvelope(b, pt.Envelope)
	return appendPart(b, pt.Message)
}

// decoder reads the stored form. The first error sticks; later reads return zero values.
type decoder struct {
	b   []byte
	err error
}

func newDecoder(b []byte) (decoder, error) {
	if len(b) == 0 || b[0] != encodingVersion {
		return decoder{}, fmt.Errorf("%w: unknown version", ErrCorrupt)
	}
	return decoder{b: b[1:]}, nil
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: bad %s", ErrCorrupt, what)
	}
	d.b = nil
}

func (d *decoder) finish() error {
	if d.err == nil && len(d.b) > 0 {
		return fmt.Errorf("%w: %d trailing octets", ErrCorrupt, len(d.b))
	}
	return d.err
}

// uint reads a varint of at most max.
func (d *decoder) uint(max uint64, what string) uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > max {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads the length of a string, or of a list whose elements take at least one octet each:
// at most the octets that follow it.
func (d *decoder) count(what string) int {
	v, n := binary.Uvarint(d.b)
	if n <= 0 || v > uint64(len(d.b)-n) {
		d.fail(what)
		return 0
	}
	d.b = d.b[n:]
	return int(v)
}

// offset reads an offset or a length; their sums stay far from overflowing.
func (d *decoder) offset(what string) int64 {
	return int64(d.uint(1<<48, what))
}

func (d *decoder) string(what string) string {
	n := d.count(what)
	if d.err != nil {
		return ""
	}
	s := intern(d.b[:n])
	d.b = d.b[n:]
	return s
}

// intern returns the common values of a structure without allocating.
func intern(b []byte) string {
	switch string(b) {
	case "":
		return ""
	case "text":
		return "text"
	case "plain":
		return "plain"
	case "html":
		return "html"
	case "multipart":
		return "multipart"
	case "mixed":
		return "mixed"
	case "alternative":
		return "alternative"
	case "related":
		return "related"
	case "application":
		return "application"
	case "octet-stream":
		return "octet-stream"
	case "image":
		return "image"
	case "message":
		return "message"
	case "rfc822":
		return "rfc822"
	case "charset":
		return "charset"
	case "utf-8":
		return "utf-8"
	case "us-ascii":
		return "us-ascii"
	case "boundary":
		return "boundary"
	case "name":
		return "name"
	case "filename":
		return "filename"
	case "7bit":
		return "7bit"
	case "8bit":
		return "8bit"
	case "base64":
		return "base64"
	case "quoted-printable":
		return "quoted-printable"
	case "inline":
		return "inline"
	case "attachment":
		return "attachment"
	}
	return string(b)
}

// list reads a count and that many elements; nil when the count is 0 or reading fails.
func list[T any](d *decoder, what string, elem func() T) []T {
	n := d.count(what)
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]T, 0, n)
	for range n {
		e := elem()
		if d.err != nil {
			return nil
		}
		out = append(out, e)
	}
	return out
}

func (d *decoder) addresses() []Address {
	return list(d, "address count", func() Address {
		return Address{Name: d.string("name"), Adl: d.string("route"), Mailbox: d.string("mailbox"), Host: d.string("host")}
	})
}

func (d *decoder) params() []Param {
	return list(d, "parameter count", func() Param {
		return Param{Name: d.string("parameter"), Value: d.string("parameter")}
	})
}

func (d *decoder) envelope() *Envelope {
	env := &Envelope{Date: d.string("date"), Subject: d.string("subject")}
	for _, list := range []*[]Address{&env.From, &env.Sender, &env.ReplyTo, &env.To, &env.Cc, &env.Bcc} {
		*list = d.addresses()
	}
	env.InReplyTo = d.string("in-reply-to")
	env.MessageID = d.string("message-id")
	env.setDefaults()
	return env
}

// part reads a part at nesting depth depth, refusing to go deeper than Parse does.
func (d *decoder) part(depth int) *Part {
	if depth > MaxDepth {
		d.fail("depth")
		return &Part{}
	}
	pt := &Part{Type: d.string("type"), Subtype: d.string("subtype"), Params: d.params()}
	for _, s := range []*string{&pt.ID, &pt.Description, &pt.Encoding, &pt.MD5, &pt.Disposition} {
		*s = d.string("field")
	}
	pt.DispositionParams = d.params()
	pt.Language = list(d, "language count", func() string { return d.string("language") })
	pt.Location = d.string("location")
	pt.HeaderStart = d.offset("header offset")
	pt.BodyStart = pt.HeaderStart + d.offset("header size")
	pt.BodyEnd = pt.BodyStart + d.offset("body size")
	pt.Lines = d.offset("lines")
	pt.Parts = list(d, "part count", func() *Part { return d.part(depth + 1) })
	switch d.uint(1, "message flag") {
	case 1:
		pt.Envelope = d.envelope()
		pt.Message = d.part(depth + 1)
	}
	return pt
}

// checkPart checks the offset invariants of the package doc for pt and its descendants, which
// must lie within [lo, hi].
func checkPart(pt *Part, lo, hi int64) error {
	if pt.HeaderStart < lo || pt.HeaderStart > pt.BodyStart || pt.BodyStart > pt.BodyEnd || pt.BodyEnd > hi {
		return fmt.Errorf("part offsets %d %d %d not within [%d, %d]", pt.HeaderStart, pt.BodyStart, pt.BodyEnd, lo, hi)
	}
	if (pt.Message == nil) != (pt.Envelope == nil) {
		return errors.New("message part without its envelope")
	}
	if pt.Message != nil {
		if len(pt.Parts) > 0 {
			return errors.New("message part with children")
		}
		if pt.Message.HeaderStart != pt.BodyStart || pt.Message.BodyEnd != pt.BodyEnd {
			return fmt.Errorf("encapsulated message at [%d, %d], want [%d, %d]",
				pt.Message.HeaderStart, pt.Message.BodyEnd, pt.BodyStart, pt.BodyEnd)
		}
		return checkPart(pt.Message, pt.BodyStart, pt.BodyEnd)
	}
	if pt.IsMultipart() != (len(pt.Parts) > 0) {
		return fmt.Errorf("%s/%s part with %d children", pt.Type, pt.Subtype, len(pt.Parts))
	}
	next := pt.BodyStart
	for _, c := range pt.Parts {
		if err := checkPart(c, next, pt.BodyEnd); err != nil {
			return err
		}
		next = c.BodyEnd
	}
	return nil
}
