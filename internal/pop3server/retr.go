package pop3server

import (
	"bufio"
	"errors"
	"fmt"
	"io"

	"posthorn/internal/bodystore"
)

// cmdRetr: RETR (RFC 1939 §5) sends a whole message. It is marked \Seen at QUIT.
func (s *session) cmdRetr(args []string) error {
	m, _, err := s.drop.message(args[0])
	if err != nil {
		return err
	}
	if err := s.sendMessage(m, -1, fmt.Sprintf("%d octets", m.size)); err != nil {
		return err
	}
	m.retrieved = true
	return nil
}

// cmdTop: TOP (RFC 1939 §7) sends the header, the empty line and the first lines of the body.
func (s *session) cmdTop(args []string) error {
	m, _, err := s.drop.message(args[0])
	if err != nil {
		return err
	}
	lines, ok := parseNumber(args[1])
	if !ok {
		return errorf("", "invalid number of lines %.20q", args[1])
	}
	return s.sendMessage(m, lines, "top of message follows")
}

// sendMessage writes "+OK first" and the message from its body as a multi-line response: all
// of it (bodyLines < 0) or the header and bodyLines lines of the body. A message whose body
// is gone (removed through IMAP since login) gets -ERR. A failure after the +OK ends the
// session: the response cannot be completed.
//
// The response goes through a pooled 64 KiB writer rather than the session's small one, so a
// message of ordinary size leaves in one write; what the session buffered before goes first.
func (s *session) sendMessage(m *dropMessage, bodyLines int, first string) error {
	f, err := s.server.Bodies.Open(s.ctx, m.blobID)
	if errors.Is(err, bodystore.ErrNotFound) {
		return errorf("", "message was removed by another session")
	}
	if err != nil {
		return err
	}
	defer f.Close()
	if err := s.bw.Flush(); err != nil {
		return &connError{err}
	}
	br := s.server.bodyReaders.Get().(*bufio.Reader)
	bw := s.server.bodyWriters.Get().(*bufio.Writer)
	// The size is known: reading stops there, without asking the body for its end.
	br.Reset(io.NewSectionReader(f, 0, m.size))
	bw.Reset(s.cw)
	defer func() {
		br.Reset(nil)
		bw.Reset(nil)
		s.server.bodyReaders.Put(br)
		s.server.bodyWriters.Put(bw)
	}()
	bw.WriteString("+OK " + first + "\r\n")
	sent, err := writeMessage(bw, br, bodyLines)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if s.cw.Err == nil {
			s.logger.Error("read message body", "blob", m.blobID, "err", err)
		}
		return &connError{err}
	}
	s.server.Metrics.retrieved(sent)
	return nil
}

// writeMessage copies a message from r to w as the body of a multi-line response (RFC 1939
// §3): a line that starts with "." gets another "." in front, a last line without a line end
// gets CRLF, and the response ends with ".\r\n". With bodyLines >= 0 it stops after the
// header, the empty line that ends it, and that many lines of the body (TOP). Lines end at
// LF, so a bare LF in a stored message ends a line as a client will read it. It returns the
// octets of the message sent, before stuffing.
func writeMessage(w *bufio.Writer, r *bufio.Reader, bodyLines int) (int64, error) {
	var sent int64
	lineStart, inBody := true, false
	for {
		seg, err := r.ReadSlice('\n')
		if len(seg) > 0 {
			if lineStart && inBody && bodyLines >= 0 {
				if bodyLines == 0 {
					break
				}
				bodyLines--
			}
			if lineStart && seg[0] == '.' {
				w.WriteByte('.')
			}
			if lineStart && !inBody && (len(seg) == 1 && seg[0] == '\n' || len(seg) == 2 && seg[0] == '\r' && seg[1] == '\n') {
				inBody = true
			}
			w.Write(seg)
			sent += int64(len(seg))
			lineStart = seg[len(seg)-1] == '\n'
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return sent, err
		}
	}
	if !lineStart {
		w.WriteString("\r\n")
	}
	_, err := w.WriteString(".\r\n")
	return sent, err
}
