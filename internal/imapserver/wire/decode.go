package wire

import (
	"errors"
	"io"
)

// decodeBufferSize is the size of the buffers the decoders read and write through.
const decodeBufferSize = 8 << 10

// readChunks calls f with each chunk that src yields, until src ends, f asks to stop, or an
// error. An io.EOF from src is no error.
func readChunks(src io.Reader, f func([]byte) (stop bool, err error)) error {
	buf := make([]byte, decodeBufferSize)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			stop, ferr := f(buf[:n])
			if ferr != nil || stop {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// base64Value maps an octet to its value in the base64 alphabet (RFC 2045 §6.8, Table 1), or to
// 0xff when it is not in it.
var base64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// decodeBase64 writes to dst the base64 content of src decoded (RFC 2045 §6.8). As the RFC asks
// of decoders, octets outside the alphabet (line breaks, white space, garbage) are ignored, and
// the first "=" ends the data. A last group of two or three characters without its padding still
// gives its one or two octets; a lone last character, which holds no whole octet, is dropped.
func decodeBase64(dst io.Writer, src io.Reader) error {
	out := make([]byte, 0, decodeBufferSize)
	var acc uint32 // the sextets of the current group, up to 4
	n := 0         // how many
	err := readChunks(src, func(chunk []byte) (bool, error) {
		for _, c := range chunk {
			if c == '=' {
				return true, nil
			}
			v := base64Value[c]
			if v == 0xff {
				continue
			}
			acc = acc<<6 | uint32(v)
			if n++; n < 4 {
				continue
			}
			out = append(out, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
			if len(out) > cap(out)-3 {
				if _, err := dst.Write(out); err != nil {
					return true, err
				}
				out = out[:0]
			}
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	switch n {
	case 2:
		out = append(out, byte(acc>>4))
	case 3:
		out = append(out, byte(acc>>10), byte(acc>>2))
	}
	if len(out) > 0 {
		_, err = dst.Write(out)
	}
	return err
}

// decodeQuotedPrintable writes to dst the quoted-printable content of src decoded (RFC 2045
// §6.7). See qpDecoder for the rules.
func decodeQuotedPrintable(dst io.Writer, src io.Reader) error {
	d := qpDecoder{out: make([]byte, 0, decodeBufferSize)}
	err := readChunks(src, func(chunk []byte) (bool, error) {
		for _, c := range chunk {
			d.feed(c)
		}
		if len(d.out) > decodeBufferSize/2 {
			if _, err := dst.Write(d.out); err != nil {
				return true, err
			}
			d.out = d.out[:0]
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	d.end()
	if len(d.out) > 0 {
		_, err = dst.Write(d.out)
	}
	return err
}

// States of a qpDecoder.
const (
	qpText   = iota // in text
	qpCR            // after a CR in text
	qpEq            // after "="
	qpEqHex         // after "=" and one hex digit
	qpSoft          // after "=" and white space: a soft line break if the line ends here
	qpSoftCR        // after "=", maybe white space, and CR
)

// maxQPSpace is the most white space a qpDecoder holds back.
const maxQPSpace = 1 << 10

// qpDecoder decodes quoted-printable one octet at a time (RFC 2045 §6.7), reading malformed
// input as Dovecot and the RFC's "robust implementation" notes do:
//
//   - "=" and two hex digits, of either case, is the octet they give (rule 1);
//   - white space at the end of a line is dropped (rule 3), also between a final "=" and the
//     line break, which makes "= " CRLF a soft line break too;
//   - "=" at the end of a line is a soft line break: neither it nor the line break is output
//     (rule 5), and "=" at the end of the data ends it without a line break;
//   - a line break, CRLF or a bare LF, is output as CRLF, the canonical form (rule 4);
//   - "=" followed by anything else is output as it is, with what follows.
//
// White space is held back until what follows it shows whether it ends a line; a run longer than
// maxQPSpace is let through, so that the memory used stays bounded.
type qpDecoder struct {
	out   []byte // decoded octets not yet written
	space []byte // white space held back
	state int
	hex   byte // the first hex digit, in qpEqHex
}

func (d *qpDecoder) feed(c byte) {
	switch d.state {
	case qpText:
		switch c {
		case ' ', '\t':
			if len(d.space) >= maxQPSpace {
				d.flushSpace()
			}
			d.space = append(d.space, c)
		case '\r':
			d.state = qpCR
		case '\n':
			d.lineBreak()
		case '=':
			d.flushSpace()
			d.state = qpEq
		default:
			d.flushSpace()
			d.out = append(d.out, c)
		}
	case qpCR:
		if c == '\n' {
			d.lineBreak()
			return
		}
		d.flushSpace()
		d.out = append(d.out, '\r')
		d.state = qpText
		d.feed(c)
	case qpEq:
		switch {
		case unhex(c) >= 0:
			d.hex = c
			d.state = qpEqHex
		case c == ' ' || c == '\t':
			d.space = append(d.space, c)
			d.state = qpSoft
		case c == '\r':
			d.state = qpSoftCR
		case c == '\n':
			d.state = qpText
		default:
			d.out = append(d.out, '=')
			d.state = qpText
			d.feed(c)
		}
	case qpEqHex:
		d.state = qpText
		if lo := unhex(c); lo >= 0 {
			d.out = append(d.out, byte(unhex(d.hex)<<4|lo))
			return
		}
		d.out = append(d.out, '=', d.hex)
		d.feed(c)
	case qpSoft:
		switch {
		case (c == ' ' || c == '\t') && len(d.space) < maxQPSpace:
			d.space = append(d.space, c)
		case c == '\r':
			d.state = qpSoftCR
		case c == '\n':
			d.space = d.space[:0]
			d.state = qpText
		default:
			// Not a soft line break after all: the "=" is text, and the white space waits
			// in text as any other.
			d.out = append(d.out, '=')
			d.state = qpText
			d.feed(c)
		}
	case qpSoftCR:
		d.state = qpText
		if c == '\n' {
			d.space = d.space[:0]
			return
		}
		d.out = append(d.out, '=')
		d.flushSpace()
		d.out = append(d.out, '\r')
		d.feed(c)
	}
}

// end finishes the data: held back white space is trailing and goes, and so does a final "=";
// an unfinished escape or CR is output as it is.
func (d *qpDecoder) end() {
	switch d.state {
	case qpCR:
		d.flushSpace()
		d.out = append(d.out, '\r')
	case qpEqHex:
		d.out = append(d.out, '=', d.hex)
	}
	d.space = d.space[:0]
	d.state = qpText
}

// lineBreak ends a line in text: its trailing white space goes, and CRLF is output.
func (d *qpDecoder) lineBreak() {
	d.space = d.space[:0]
	d.out = append(d.out, '\r', '\n')
	d.state = qpText
}

// flushSpace outputs the white space held back.
func (d *qpDecoder) flushSpace() {
	d.out = append(d.out, d.space...)
	d.space = d.space[:0]
}

// unhex returns the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	}
	return -1
}
