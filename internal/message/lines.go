package message

import (
	"bufio"
	"io"
)

// readBufferSize is the size of the buffer that lines are read through; a longer line comes in
// pieces, and only its first piece is looked at for a boundary or a field name.
const readBufferSize = 16 << 10

// lineReader reads a message line by line through a fixed buffer, keeping the absolute offset and
// the number of lines read. Lines end at LF; a CR before it is part of the line break.
type lineReader struct {
	br        *bufio.Reader
	off       int64 // offset of the next byte
	lines     int64 // number of lines started so far
	atStart   bool  // the next byte starts a line
	lastByte  byte  // last byte read, to see a CR that ended the previous piece
	prevEOL   int   // length of the line break of the last complete line: 0, 1 or 2
	prevEmpty bool  // the last complete line was only a line break
}

// piece is a line, or a piece of a line longer than the buffer.
type piece struct {
	data  []byte // valid until the next read
	start int64  // offset of data[0]
	first bool   // data starts a line
	eol   int    // length of the line break that data ends with; 0 when the line goes on

	// What was known of the line before this one, when first: its line break and whether it
	// held nothing else.
	prevEOL   int
	prevEmpty bool
}

func newLineReader(r io.Reader) *lineReader {
	return &lineReader{br: bufio.NewReaderSize(r, readBufferSize), atStart: true}
}

// next returns the next piece, or io.EOF at the end.
func (lr *lineReader) next() (piece, error) {
	data, err := lr.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull || (err == io.EOF && len(data) > 0) {
		err = nil
	}
	if err != nil {
		return piece{}, err
	}
	pc := piece{data: data, start: lr.off, first: lr.atStart, prevEOL: lr.prevEOL, prevEmpty: lr.prevEmpty}
	if pc.first {
		lr.lines++
	}
	if n := len(data); data[n-1] == '\n' {
		pc.eol = 1
		if n >= 2 && data[n-2] == '\r' || n == 1 && lr.lastByte == '\r' {
			pc.eol = 2
		}
		lr.prevEOL = pc.eol
		lr.prevEmpty = pc.first && n == pc.eol
		lr.atStart = true
	} else {
		lr.atStart = false
	}
	lr.lastByte = data[len(data)-1]
	lr.off += int64(len(data))
	return pc, nil
}

// content returns the piece without its line break; a CR that ended the previous piece is
// already gone, as the caller took that piece whole.
func (pc piece) content() []byte {
	n := len(pc.data) - pc.eol
	if n < 0 {
		n = 0
	}
	return pc.data[:n]
}
