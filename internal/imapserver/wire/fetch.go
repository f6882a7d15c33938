package wire

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"posthorn/internal/message"
)

// ErrUnknownCTE is the error WriteBinary and BinarySize wrap when a part's
// Content-Transfer-Encoding is one they cannot remove; the caller answers NO [UNKNOWN-CTE]
// (RFC 9051 §6.4.5, §7.1; RFC 3516).
var ErrUnknownCTE = errors.New("unknown content-transfer-encoding")

// WriteSection writes the text that s names in the stored message r, whose structure is root,
// as the string of a BODY[s] FETCH item (RFC 9051 §6.4.5, §7.5.2): a literal, {n} CRLF and the
// octets. The caller writes the "BODY[...]<origin> " before it.
//
// With partial, only Length octets from Offset are written; an Offset at or past the end gives
// an empty string. For HEADER.FIELDS and HEADER.FIELDS.NOT the partial applies to the filtered
// header. A section the message does not have gives an empty string, as in Dovecot, which writes
// it as {0} CRLF too.
//
// The octets are those stored, line ends included, but that each NUL is written as 0x80: a
// literal cannot hold NUL (RFC 9051 §4.3 CHAR8), and Dovecot does the same.
//
// An error comes from r, and may come after the literal's length was written: the connection
// cannot go on then, and the caller closes it. Errors writing to w are w's, as for every writer
// of this package.
func WriteSection(w *bufio.Writer, r io.ReaderAt, root *message.Part, s Section, partial *Partial) error {
	start, end, ok := s.Range(root)
	if !ok {
		writeLiteralPrefix(w, 0, false)
		return nil
	}
	if s.Kind == SectionHeaderFields || s.Kind == SectionHeaderFieldsNot {
		exclude := s.Kind == SectionHeaderFieldsNot
		produce := func(dst io.Writer) error {
			return filterHeader(dst, io.NewSectionReader(r, start, end-start), s.Fields, exclude)
		}
		return writeProduced(w, produce, partial, false)
	}
	off, n := clip(end-start, partial)
	writeLiteralPrefix(w, n, false)
	return copyRange(w, r, start+off, n)
}

// WriteBinary writes the part that s names, a section-binary (see Section.IsBinary), with its
// Content-Transfer-Encoding removed, as the string of a BINARY[s] FETCH item (RFC 9051 §6.4.5,
// RFC 3516): a literal8 (~{n} CRLF and the octets) when the octets hold a NUL, a literal
// otherwise, which RFC 3516 asks for so that the client need not scan the octets for NUL. With
// partial, the Offset and Length count decoded octets. A part the message does not have gives an
// empty string.
//
// base64 and quoted-printable are decoded (see decodeBase64 and decodeQuotedPrintable for how
// malformed input is read); 7bit, 8bit and binary leave the octets as they are. Any other
// encoding gives an error that wraps ErrUnknownCTE, before anything is written. The whole
// message (BINARY[]) is written as it is stored: its header is never encoded, and the parts of
// a multipart are not decoded one by one.
//
// The part is read twice: once to count the octets and look for NUL, once to write them.
func WriteBinary(w *bufio.Writer, r io.ReaderAt, root *message.Part, s Section, partial *Partial) error {
	produce, ok, err := binaryContent(r, root, s)
	if err != nil {
		return err
	}
	if !ok {
		writeLiteralPrefix(w, 0, false)
		return nil
	}
	return writeProduced(w, produce, partial, true)
}

// BinarySize returns the size of the part that s names once its Content-Transfer-Encoding is
// removed, for BINARY.SIZE[s] (RFC 9051 §6.4.5); 0 for a part the message does not have. An
// encoding it cannot remove gives an error that wraps ErrUnknownCTE. Encoded parts are decoded
// to be counted.
func BinarySize(r io.ReaderAt, root *message.Part, s Section) (int64, error) {
	produce, ok, err := binaryContent(r, root, s)
	if err != nil || !ok {
		return 0, err
	}
	m := &window{dst: io.Discard, left: math.MaxInt64}
	if err := producerError(produce(m)); err != nil {
		return 0, err
	}
	return math.MaxInt64 - m.left, nil
}

// binaryContent returns the producer of a BINARY section's decoded octets, or false when the
// message has no such part.
func binaryContent(r io.ReaderAt, root *message.Part, s Section) (produce func(io.Writer) error, ok bool, err error) {
	if !s.IsBinary() {
		return nil, false, fmt.Errorf("%w: BINARY[%s] takes part numbers only", ErrBadSection, s)
	}
	start, end, ok := s.Range(root)
	if !ok {
		return nil, false, nil
	}
	src := func() io.Reader { return io.NewSectionReader(r, start, end-start) }
	raw := func(dst io.Writer) error {
		_, err := io.Copy(dst, src())
		return err
	}
	if len(s.Part) == 0 {
		return raw, true, nil
	}
	pt, _ := root.Find(s.Part)
	switch pt.Encoding {
	case "7bit", "8bit", "binary":
		return raw, true, nil
	case "base64":
		return func(dst io.Writer) error { return decodeBase64(dst, src()) }, true, nil
	case "quoted-printable":
		return func(dst io.Writer) error { return decodeQuotedPrintable(dst, src()) }, true, nil
	}
	return nil, false, fmt.Errorf("%w %q in part %s", ErrUnknownCTE, pt.Encoding, s)
}

// producerError returns what a producer's err means to its caller: nil when it ended because
// its window was full, the writer's own error when writing failed, and a read error with
// context otherwise.
func producerError(err error) error {
	if err == nil || errors.Is(err, errWindowFull) {
		return nil
	}
	var werr writeError
	if errors.As(err, &werr) {
		return werr.err
	}
	return fmt.Errorf("read section: %w", err)
}

// writeProduced writes, as a literal, the octets that produce writes, cut to partial. produce
// runs twice: first to count the octets (and, for binary, see whether they hold a NUL), then to
// write them. Without binary, NUL is written as 0x80 and the literal is a plain one.
func writeProduced(w *bufio.Writer, produce func(io.Writer) error, partial *Partial, binary bool) error {
	off, length := int64(0), int64(math.MaxInt64)
	if partial != nil {
		off, length = partial.Offset, partial.Length
	}
	m := &window{dst: io.Discard, skip: off, left: length}
	if err := producerError(produce(m)); err != nil {
		return err
	}
	n := length - m.left
	writeLiteralPrefix(w, n, binary && m.nul)
	if n == 0 {
		return nil
	}
	var dst io.Writer = w
	if !binary {
		dst = nulFreeWriter{w}
	}
	out := &window{dst: dst, skip: off, left: n}
	if err := producerError(produce(out)); err != nil {
		return err
	}
	if out.left != 0 {
		return fmt.Errorf("section shrank from %d to %d octets while written", n, n-out.left)
	}
	return nil
}

// clip returns the octets of a text of size octets that partial selects: from off, n of them.
func clip(size int64, partial *Partial) (off, n int64) {
	if partial == nil {
		return 0, size
	}
	if partial.Offset >= size {
		return size, 0
	}
	return partial.Offset, min(size-partial.Offset, partial.Length)
}

// copyRange writes the n octets of r at off to w, NUL written as 0x80. It reads straight into
// w's buffer.
func copyRange(w *bufio.Writer, r io.ReaderAt, off, n int64) error {
	for n > 0 {
		if w.Available() == 0 {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		buf := w.AvailableBuffer()[:min(int64(w.Available()), n)]
		k, err := r.ReadAt(buf, off)
		if k < len(buf) {
			if err == nil || err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read section at %d: %w", off, err)
		}
		replaceNUL(buf)
		if _, err := w.Write(buf); err != nil {
			return err
		}
		off += int64(k)
		n -= int64(k)
	}
	return nil
}

// replaceNUL replaces each NUL in b by 0x80.
func replaceNUL(b []byte) {
	for i := bytes.IndexByte(b, 0); i >= 0; i = bytes.IndexByte(b, 0) {
		b[i] = nulReplacement
		b = b[i+1:]
	}
}

// nulFreeWriter writes to a bufio.Writer with each NUL made 0x80.
type nulFreeWriter struct{ w *bufio.Writer }

func (nw nulFreeWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, 0)
		if i < 0 {
			i = len(p)
		}
		if _, err := nw.w.Write(p[:i]); err != nil {
			return 0, err
		}
		if i < len(p) {
			if err := nw.w.WriteByte(nulReplacement); err != nil {
				return 0, err
			}
			i++
		}
		p = p[i:]
	}
	return n, nil
}

// A producer writes a section's octets to a writer, and may be run more than once. It returns
// the error of the writer or of the reader as it is; producerError sorts them out.

// errWindowFull ends a producer once a window has taken all it wants.
var errWindowFull = errors.New("window full")

// writeError marks an error of the connection's writer, so that it is not reported as a read
// error of the section.
type writeError struct{ err error }

func (e writeError) Error() string { return e.err.Error() }
func (e writeError) Unwrap() error { return e.err }

// window passes on, of what is written to it, left octets after the first skip ones, and notes
// whether they hold a NUL. Once it has passed left octets it returns errWindowFull.
type window struct {
	dst  io.Writer
	skip int64
	left int64
	nul  bool
}

func (wn *window) Write(p []byte) (int, error) {
	n := len(p)
	if wn.skip > 0 {
		k := min(int64(len(p)), wn.skip)
		p = p[k:]
		wn.skip -= k
	}
	if int64(len(p)) > wn.left {
		p = p[:wn.left]
	}
	if len(p) > 0 {
		if !wn.nul && bytes.IndexByte(p, 0) >= 0 {
			wn.nul = true
		}
		if _, err := wn.dst.Write(p); err != nil {
			return 0, writeError{err}
		}
		wn.left -= int64(len(p))
	}
	if wn.left == 0 {
		return n, errWindowFull
	}
	return n, nil
}
