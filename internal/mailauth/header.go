package mailauth

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
)

// maxHeaderBytes bounds the header section read from a message.
const maxHeaderBytes = 1 << 20

// headerField is one field of a message header as it appears on the wire: raw holds the name,
// the colon, the value with its folding, and the final line break.
type headerField struct {
	name string
	raw  []byte
}

// value returns the field's value after the colon, unfolded, with surrounding white space
// removed.
func (f headerField) value() string {
	_, v, _ := bytes.Cut(f.raw, []byte(":"))
	s := strings.ReplaceAll(string(v), "\r\n", "")
	s = strings.ReplaceAll(s, "\n", "")
	return strings.TrimSpace(s)
}

var errHeaderTooLong = errors.New("message header too long")

// readHeader reads the header section (RFC 5322 §2.2) up to and including the empty line. It
// returns the fields in order and the number of bytes the section occupies. A message without
// an empty line is all header. Lines that are neither fields nor continuations are skipped.
func readHeader(r io.Reader) ([]headerField, int64, error) {
	br := bufio.NewReaderSize(r, 4096)
	var fields []headerField
	var n int64
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A very long line: gather it whole.
			buf := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) && len(buf) < maxHeaderBytes {
				line, err = br.ReadSlice('\n')
				buf = append(buf, line...)
			}
			line = buf
		}
		n += int64(len(line))
		if n > maxHeaderBytes {
			return fields, n, errHeaderTooLong
		}
		if len(line) == 0 || bytes.Equal(line, []byte("\r\n")) || bytes.Equal(line, []byte("\n")) {
			return fields, n, nil
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) > 0 {
				last := &fields[len(fields)-1]
				last.raw = append(last.raw, line...)
			}
		} else if colon := bytes.IndexByte(line, ':'); colon > 0 {
			name := strings.TrimRight(string(line[:colon]), " \t")
			fields = append(fields, headerField{name: name, raw: append([]byte(nil), line...)})
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fields, n, nil
			}
			return fields, n, err
		}
	}
}

// fieldsNamed returns the fields called name (case-insensitive), in order.
func fieldsNamed(fields []headerField, name string) []headerField {
	var out []headerField
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			out = append(out, f)
		}
	}
	return out
}
