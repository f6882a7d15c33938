package message

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Parse reads the stored message of size octets in r and returns its envelope and MIME structure.
// It reads the message once, in order, through a fixed buffer. It fails only when r does, or when r
// holds fewer than size octets; malformed content is read as well as it can be (see the package
// doc).
func Parse(r io.ReaderAt, size int64) (*Parsed, error) {
	if size < 0 {
		return nil, fmt.Errorf("parse message: negative size %d", size)
	}
	p := &parser{lr: newLineReader(io.NewSectionReader(r, 0, size)), budget: maxHeaderBytes}
	root := &Part{}
	env := p.part(root, 0, false, true)
	if p.err != nil {
		return nil, fmt.Errorf("parse message: %w", p.err)
	}
	if p.lr.off != size {
		return nil, fmt.Errorf("parse message: read %d of %d octets: %w", p.lr.off, size, io.ErrUnexpectedEOF)
	}
	settle(root, 0, size)
	return &Parsed{Envelope: *env, Root: root, Size: size}, nil
}

// parser is the state of one Parse.
type parser struct {
	lr     *lineReader
	bounds boundaries
	parts  int   // parts made so far
	budget int   // header bytes that may still be kept
	err    error // a read error, which ends the parse

	// When stopped, the last line read was a boundary line of an open multipart (or the message
	// ended, or a read failed): every part inside that multipart ends, and reads return nothing
	// until the multipart takes the line with resume.
	stopped bool
	at      stop
}

// stop describes where reading stopped.
type stop struct {
	eof     bool
	idx     int   // the multipart whose boundary line it is
	isClose bool  // the line is the close delimiter
	start   int64 // offset of the boundary line, or of the end
	lines   int64 // number of lines before it

	// The line break before the boundary line belongs to the boundary (RFC 2046 §5.1.1), and
	// whether the line it ends held nothing else.
	prevEOL   int
	prevEmpty bool
}

// nextLine returns the next piece of a line, or false when reading stopped.
func (p *parser) nextLine() (piece, bool) {
	if p.stopped {
		return piece{}, false
	}
	pc, err := p.lr.next()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			p.err = err
		}
		p.stopped = true
		p.at = stop{eof: true, start: p.lr.off, lines: p.lr.lines}
		return piece{}, false
	}
	if pc.first {
		if idx, isClose, ok := p.bounds.match(pc.content()); ok {
			p.stopped = true
			p.at = stop{idx: idx, isClose: isClose, start: pc.start, lines: p.lr.lines - 1,
				prevEOL: pc.prevEOL, prevEmpty: pc.prevEmpty}
			return piece{}, false
		}
	}
	return pc, true
}

// skip reads until reading stops.
func (p *parser) skip() {
	for {
		if _, ok := p.nextLine(); !ok {
			return
		}
	}
}

// stoppedBy reports whether reading stopped at a boundary line of multipart idx.
func (p *parser) stoppedBy(idx int) bool {
	return p.stopped && !p.at.eof && p.at.idx == idx
}

// part reads the part whose header starts at the current offset, up to where reading stops, and
// fills in pt. depth is its nesting depth, inDigest whether its parent is a multipart/digest. When
// isMessage, the part is the root of a message, and part returns its ENVELOPE.
func (p *parser) part(pt *Part, depth int, inDigest, isMessage bool) *Envelope {
	p.parts++
	pt.HeaderStart = p.lr.off
	var h header
	blank := p.readHeader(&h, isMessage)
	h.apply(pt, inDigest)
	var env *Envelope
	if isMessage {
		env = h.envelope()
	}
	bodyStart, lines0 := p.lr.off, p.lr.lines
	switch {
	case pt.Type == "multipart":
		p.multipart(pt, depth)
	case pt.Type == "message" && (pt.Subtype == "rfc822" || pt.Subtype == "global") &&
		isIdentityEncoding(pt.Encoding) && depth < MaxDepth && p.parts < MaxParts:
		// RFC 2046 §5.2.1, RFC 6532 §3.3: the body is a message.
		inner := &Part{}
		pt.Envelope = p.part(inner, depth+1, false, true)
		pt.Message = inner
	default:
		p.skip()
	}
	p.end(pt, bodyStart, lines0, blank)
	return env
}

// isIdentityEncoding reports whether a Content-Transfer-Encoding leaves the body as it is.
func isIdentityEncoding(enc string) bool {
	return enc == "7bit" || enc == "8bit" || enc == "binary"
}

// multipart reads the body of a multipart (RFC 2046 §5.1.1): preamble, parts between boundary
// lines, close delimiter, epilogue. A multipart that cannot be split or holds no part becomes
// text/plain.
func (p *parser) multipart(pt *Part, depth int) {
	boundary := ""
	for _, prm := range pt.Params {
		if prm.Name == "boundary" {
			// RFC 2046 §5.1.1: a boundary does not end in white space; padding on the boundary
			// lines is ignored, so it is here.
			boundary = strings.TrimRight(prm.Value, " \t")
			break
		}
	}
	if boundary == "" || len(boundary) > maxBoundary || depth >= MaxDepth || p.parts >= MaxParts {
		setTextPlain(pt)
		p.skip()
		return
	}
	idx := p.bounds.push(boundary)
	p.skip() // the preamble
	for p.stoppedBy(idx) && !p.at.isClose {
		p.stopped = false
		if p.parts >= MaxParts {
			// Beyond the limit, further parts are read past.
			p.skip()
			continue
		}
		child := &Part{}
		pt.Parts = append(pt.Parts, child)
		p.part(child, depth+1, pt.Subtype == "digest", false)
	}
	p.bounds.pop()
	if p.stoppedBy(idx) {
		// The close delimiter: the epilogue follows, up to an enclosing boundary or the end.
		p.stopped = false
		p.skip()
	}
	if len(pt.Parts) == 0 {
		setTextPlain(pt)
	}
}

// end sets the body offsets and line count of pt once reading has stopped at its end. blank
// reports whether its header ended with a blank line at bodyStart; lines0 is the number of lines
// read before bodyStart.
func (p *parser) end(pt *Part, bodyStart, lines0 int64, blank bool) {
	at := p.at
	end := at.start
	if !at.eof {
		// The line break before the boundary line is the boundary's. It may be the header's own
		// blank line, or the end of the previous boundary line: the part is then empty.
		end -= int64(at.prevEOL)
	}
	end = max(end, pt.HeaderStart)
	if !blank || bodyStart > end {
		bodyStart = end
	}
	pt.BodyStart, pt.BodyEnd = bodyStart, end
	if end == bodyStart || !reportsLines(pt) {
		return
	}
	// Count the lines that start in the body: those read since bodyStart, but not the last one
	// before a boundary line when that one was only the line break the boundary takes.
	n := at.lines - lines0
	if !at.eof && at.prevEmpty && n > 0 {
		n--
	}
	pt.Lines = n
}

// reportsLines reports whether BODYSTRUCTURE gives pt's size in lines (RFC 9051 §7.5.2).
func reportsLines(pt *Part) bool {
	return pt.Type == "text" || pt.Type == "message" && (pt.Subtype == "rfc822" || pt.Subtype == "global")
}

// settle enforces the offset invariants of the package doc on pt, to be within [lo, hi], and on its
// descendants. Reading already gives them but for empty parts next to a boundary line whose line
// break they would share; settle places those at the nearest valid offset.
func settle(pt *Part, lo, hi int64) {
	pt.HeaderStart = min(max(pt.HeaderStart, lo), hi)
	pt.BodyStart = min(max(pt.BodyStart, pt.HeaderStart), hi)
	pt.BodyEnd = min(max(pt.BodyEnd, pt.BodyStart), hi)
	if pt.BodyEnd == pt.BodyStart {
		pt.Lines = 0
	}
	if pt.Message != nil {
		settle(pt.Message, pt.BodyStart, pt.BodyEnd)
	}
	next := pt.BodyStart
	for _, c := range pt.Parts {
		settle(c, next, pt.BodyEnd)
		next = c.BodyEnd
	}
}
