package netserver

import (
	"bufio"
	"errors"
	"io"
	"net"
)

// Writer writes to a connection and remembers the first error, so a session sees a dead
// connection once, after a command, instead of at every write. A session's bufio.Writer sits on
// it; after a TLS handshake the session sets Conn to the TLS connection.
type Writer struct {
	Conn net.Conn
	Err  error
}

func (w *Writer) Write(p []byte) (int, error) {
	if w.Err != nil {
		return 0, w.Err
	}
	n, err := w.Conn.Write(p)
	w.Err = err
	return n, err
}

// ErrLineTooLong is returned by ReadLine for a line over its limit, which it has read to its end.
var ErrLineTooLong = errors.New("line too long")

// ReadLine reads one line of at most max octets, line end included, and returns it without the
// line end (LF, or CRLF). A longer line is read to its end and gives ErrLineTooLong, so the
// session can answer and go on; the end of the connection inside a line is
// io.ErrUnexpectedEOF.
func ReadLine(r *bufio.Reader, max int) (string, error) {
	var b []byte
	tooLong := false
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b)+len(chunk) > max {
			tooLong, b = true, b[:0]
		}
		if !tooLong {
			b = append(b, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		if tooLong {
			return "", ErrLineTooLong
		}
		b = b[:len(b)-1]
		if len(b) > 0 && b[len(b)-1] == '\r' {
			b = b[:len(b)-1]
		}
		return string(b), nil
	}
}
