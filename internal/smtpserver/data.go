package smtpserver

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// copyStats describes a message as it was copied.
type copyStats struct {
	receivedHeaders int
}

// copyMessage writes the Received header and then the message from r to w, turning every bare LF
// into CRLF (RFC 5321 §2.3.8: a line ends with CRLF only; normalising, as Postfix does, keeps the
// stored message well-formed for IMAP and for relaying). It counts the Received headers of the
// top-level header section and stops with errLoop when there are more than MaxReceived, and with
// errTooLarge past limit bytes (limit 0: none).
//
// A bare CR (a CR not followed by LF) stops the copy with errBareCR. RFC 5321 §2.3.8 allows CR
// only as part of CRLF, and the outbound queue's SMTP client refuses to send such a message, so
// it could never be relayed or forwarded. It is refused rather than rewritten, as mox does: a
// bare CR is not a line ending of any system still sending mail, and "\r.\r" is one of the
// SMTP smuggling sequences, so there is no right way to repair one.
func copyMessage(w io.Writer, received string, r io.Reader, limit int64) (copyStats, error) {
	var stats copyStats
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(received); err != nil {
		return stats, err
	}
	stats.receivedHeaders = 1
	br := bufio.NewReaderSize(r, 64<<10)
	var written int64
	inHeader, atLineStart, prevCR := true, true, false
	for {
		segment, err := br.ReadSlice('\n')
		if len(segment) > 0 {
			if atLineStart && inHeader {
				switch {
				case bytes.Equal(segment, []byte("\r\n")), bytes.Equal(segment, []byte("\n")):
					inHeader = false
				case len(segment) >= 9 && strings.EqualFold(string(segment[:9]), "received:"):
					stats.receivedHeaders++
					if stats.receivedHeaders > MaxReceived {
						return stats, errLoop
					}
				}
			}
			if hasBareCR(segment, prevCR) {
				return stats, errBareCR
			}
			n := len(segment)
			endsLF := segment[n-1] == '\n'
			bareLF := endsLF && (n == 1 && !prevCR || n >= 2 && segment[n-2] != '\r')
			if bareLF {
				segment = segment[:n-1]
			}
			if _, werr := bw.Write(segment); werr != nil {
				return stats, werr
			}
			if bareLF {
				if _, werr := bw.WriteString("\r\n"); werr != nil {
					return stats, werr
				}
			}
			written += int64(len(segment))
			if limit > 0 && written > limit {
				return stats, errTooLarge
			}
			atLineStart = endsLF
			prevCR = !endsLF && segment[len(segment)-1] == '\r'
		}
		if err == io.EOF {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return stats, err
		}
	}
	if prevCR {
		return stats, errBareCR
	}
	// A message must end with CRLF so the stored form is a sequence of whole lines.
	if !atLineStart {
		if _, err := bw.WriteString("\r\n"); err != nil {
			return stats, err
		}
	}
	return stats, bw.Flush()
}

// hasBareCR reports whether segment (a line or a part of one, from bufio.Reader.ReadSlice) has
// a CR that is not followed by LF. prevCR: the previous segment ended with a CR, which only an
// LF at the start of this one makes right. A CR at the end of segment is left to the next.
func hasBareCR(segment []byte, prevCR bool) bool {
	if prevCR && segment[0] != '\n' {
		return true
	}
	for i := bytes.IndexByte(segment, '\r'); i >= 0; {
		if i+1 < len(segment) && segment[i+1] != '\n' {
			return true
		}
		next := bytes.IndexByte(segment[i+1:], '\r')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

// receivedHeader builds the trace header RFC 5321 §4.4 requires, with the protocol names of
// RFC 3848 (ESMTP, ESMTPS). The recipient is named only for a single-recipient message, so one
// recipient's copy does not reveal the others.
func receivedHeader(hostname, helo, remoteIP, id string, rcpts []string, tls bool, now time.Time) string {
	protocol := "ESMTP"
	if tls {
		protocol = "ESMTPS"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s ([%s])\r\n\tby %s (posthorn) with %s id %s", headerSafe(helo), remoteIP, hostname, protocol, id)
	if len(rcpts) == 1 {
		fmt.Fprintf(&b, "\r\n\tfor <%s>", headerSafe(rcpts[0]))
	}
	fmt.Fprintf(&b, ";\r\n\t%s\r\n", now.Format(time.RFC1123Z))
	return b.String()
}

// headerSafe keeps client-supplied text from breaking the header: printable characters other
// than parentheses and angle brackets only.
func headerSafe(s string) string {
	if s == "" {
		return "unknown"
	}
	var b strings.Builder
	for _, c := range s {
		if c < 0x21 || c == 0x7f || strings.ContainsRune("()<>", c) {
			c = '_'
		}
		b.WriteRune(c)
	}
	return b.String()
}
