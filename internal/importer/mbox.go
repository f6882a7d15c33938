package importer

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Mbox is an mbox file (RFC 4155): messages each after a "From " line, read one at a time,
// one buffer's worth at most in memory. A body line escaped as ">From " (mboxo) or ">>From ",
// ">>>From "... (mboxrd) gets one ">" back: mboxrd's rule covers mboxo's files too, which
// differ only on lines that began with ">From " before they were written, rare enough. The
// blank line a writer puts before the next "From " line is the file's, not the message's.
// Content-Length headers (mboxcl) are not followed, and flags are not read from Status
// headers: every message is imported unflagged, with the "From " line's date as its internal
// date when the line has one.
type Mbox struct {
	Path string
}

// Walk implements Source: every message goes to INBOX (or Import's mailbox).
func (m Mbox) Walk(ctx context.Context, visit func(Message) error) error {
	f, err := os.Open(m.Path)
	if err != nil {
		return fmt.Errorf("open mbox: %w", err)
	}
	defer f.Close()
	r := &mboxReader{br: bufio.NewReaderSize(f, 64*1024)}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		date, ok, err := r.next()
		if err != nil {
			return fmt.Errorf("read mbox %s: %w", m.Path, err)
		}
		if !ok {
			return nil
		}
		if err := visit(Message{Folder: Folder{Name: "INBOX"}, InternalDate: date, Body: r}); err != nil {
			return err
		}
		if _, err := io.Copy(io.Discard, r); err != nil { // what visit left unread
			return fmt.Errorf("read mbox %s: %w", m.Path, err)
		}
	}
}

// mboxReader reads an mbox's messages: next finds the start of the next message, then Read
// returns the message's octets up to the following "From " line, unescaped.
type mboxReader struct {
	br       *bufio.Reader
	started  bool
	fromLine []byte // the "From " line that ended the last message; nil at the end of the file
	msgDone  bool
	midLine  bool   // the last piece read did not end its line (a line longer than the buffer)
	held     []byte // a blank line held back: the file's if a "From " line follows
	out      []byte // octets read and not yet returned
}

// next moves to the next message and returns its "From " line's date; false at the end.
func (r *mboxReader) next() (time.Time, bool, error) {
	if !r.started {
		r.started = true
		for { // anything before the first "From " line is not a message
			line, err := r.br.ReadSlice('\n')
			if isFromLine(line) && !r.midLine {
				r.fromLine = append([]byte(nil), line...)
				if err := r.skipLine(err); err != nil {
					return time.Time{}, false, err
				}
				break
			}
			r.midLine = errors.Is(err, bufio.ErrBufferFull)
			if err != nil && !r.midLine {
				return time.Time{}, false, ignoreEOF(err)
			}
		}
	}
	if r.fromLine == nil {
		return time.Time{}, false, nil
	}
	date := fromLineDate(r.fromLine)
	r.fromLine, r.msgDone, r.held, r.out = nil, false, nil, r.out[:0]
	return date, true, nil
}

// skipLine reads the rest of a line whose first piece ended with err.
func (r *mboxReader) skipLine(err error) error {
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = r.br.ReadSlice('\n')
	}
	r.midLine = false
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

func (r *mboxReader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.msgDone {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}

// fill reads one piece of a line into out, or ends the message.
func (r *mboxReader) fill() error {
	piece, err := r.br.ReadSlice('\n')
	full := errors.Is(err, bufio.ErrBufferFull)
	if err != nil && !full && !errors.Is(err, io.EOF) {
		return err
	}
	atStart := !r.midLine
	r.midLine = full
	if atStart && isFromLine(piece) {
		r.fromLine = append([]byte(nil), piece...)
		r.msgDone, r.held = true, nil
		return r.skipLine(err)
	}
	if len(piece) > 0 {
		if r.held != nil {
			r.out = append(r.out, r.held...)
			r.held = nil
		}
		switch {
		case atStart && !full && (string(piece) == "\n" || string(piece) == "\r\n"):
			r.held = append([]byte(nil), piece...)
		case atStart && isEscapedFrom(piece):
			r.out = append(r.out, piece[1:]...)
		default:
			r.out = append(r.out, piece...)
		}
	}
	if errors.Is(err, io.EOF) {
		r.msgDone, r.held = true, nil // the file's last blank line is the file's too
	}
	return nil
}

// isFromLine: RFC 4155 §2: a line beginning "From " starts a message.
func isFromLine(line []byte) bool { return bytes.HasPrefix(line, []byte("From ")) }

// isEscapedFrom: one or more ">" then "From ".
func isEscapedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

// fromLineDate reads the date of a "From sender date" line: asctime's form, as RFC 4155
// describes, the sender being one word; zero when it has none that parses.
func fromLineDate(line []byte) time.Time {
	fields := strings.Fields(string(line))
	if len(fields) < 7 {
		return time.Time{}
	}
	// "From sender Www Mmm dd hh:mm:ss yyyy", and a time zone some writers add.
	text := strings.Join(fields[2:7], " ")
	for _, layout := range []string{time.ANSIC, "Mon Jan _2 15:04:05 2006"} {
		if t, err := time.ParseInLocation(layout, text, time.UTC); err == nil {
			return t
		}
	}
	return time.Time{}
}

func ignoreEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
