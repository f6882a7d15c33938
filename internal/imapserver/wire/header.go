package wire

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// headerReadSize is the buffer header lines are read through; a longer line comes in pieces, and
// only its first piece is looked at for the field name.
const headerReadSize = 4 << 10

// filterHeader writes to dst the fields of the header in src that HEADER.FIELDS (exclude false)
// or HEADER.FIELDS.NOT (exclude true) keeps (RFC 9051 §6.4.5): those whose name is (or is not)
// one of names, compared without regard to case. Each kept field is written as stored, with its
// continuation lines (RFC 5322 §2.2.3) and line breaks, in the order of the header, every
// occurrence of it.
//
// The blank line that ends the header is always kept (RFC 9051 §6.4.5, as RFC 3501: "the blank
// line is included in all header fetches, except in the case of a message which has no body and
// no blank line"), so a list that matches nothing gives CRLF alone; a header without one gets
// none. A line that is no field (it has no
// colon, or its name holds characters a field name may not) matches no name: HEADER.FIELDS.NOT
// keeps it. So do continuation lines before the first field.
func filterHeader(dst io.Writer, src io.Reader, names []string, exclude bool) error {
	br := bufio.NewReaderSize(src, headerReadSize)
	atStart, keep := true, exclude
	for {
		piece, err := br.ReadSlice('\n')
		if len(piece) > 0 {
			if atStart {
				switch {
				case isBlankLine(piece):
					keep = true
				case piece[0] == ' ' || piece[0] == '\t':
					// A continuation line: the field before it goes on.
				default:
					keep = matchesName(fieldName(piece), names) != exclude
				}
			}
			if keep {
				if _, werr := dst.Write(piece); werr != nil {
					return werr
				}
			}
			atStart = piece[len(piece)-1] == '\n'
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case errors.Is(err, io.EOF):
			return nil
		default:
			return err
		}
	}
}

// isBlankLine reports whether a line is a line break alone.
func isBlankLine(line []byte) bool {
	return len(line) == 1 && line[0] == '\n' || len(line) == 2 && line[0] == '\r' && line[1] == '\n'
}

// fieldName returns the name of the field a header line starts (RFC 5322 §3.6.8: printable
// US-ASCII but ":", with the white space obsolete syntax allows before the colon, §4.5), or nil
// when the line is no field.
func fieldName(line []byte) []byte {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil
	}
	name := bytes.TrimRight(line[:colon], " \t")
	for _, c := range name {
		if c < 33 || c > 126 {
			return nil
		}
	}
	return name
}

// matchesName reports whether name is one of names, compared without regard to ASCII case.
func matchesName(name []byte, names []string) bool {
	if len(name) == 0 {
		return false
	}
	for _, n := range names {
		if equalFoldASCII(name, n) {
			return true
		}
	}
	return false
}

// equalFoldASCII reports whether b and s are equal but for the case of ASCII letters.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
