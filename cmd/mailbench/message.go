package main

import (
	"strconv"
	"strings"
	"time"
)

// bodyLineLength is the number of printable characters of a body line, before its CRLF: the
// length that quoted-printable and base64 use, well below the limit of RFC 5322 §2.1.1.
const bodyLineLength = 76

// bodyAlphabet is what body lines are made of: letters and digits only, so no line needs
// dot-stuffing or looks like a header or a MIME boundary.
const bodyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// messageTemplate makes the test messages of a run. A message is a small header, rebuilt for
// each message in a buffer the worker reuses, followed by a body that is built once and shared,
// read-only, by all workers: sending a message allocates no message-sized buffer.
type messageTemplate struct {
	runID  string
	from   string
	domain string // right side of the Message-IDs
	body   []byte
	// verbatim: body is a whole message, sent as it is; appendHeader adds nothing.
	verbatim bool
}

// newVerbatimTemplate sends msg, a whole message, every time. Its bare LFs become CRLF
// (RFC 5321 §2.3.8), and it ends in one.
func newVerbatimTemplate(msg []byte) *messageTemplate {
	text := strings.ReplaceAll(strings.ReplaceAll(string(msg), "\r\n", "\n"), "\n", "\r\n")
	if !strings.HasSuffix(text, "\r\n") {
		text += "\r\n"
	}
	return &messageTemplate{body: []byte(text), verbatim: true}
}

// newMessageTemplate prepares messages of about size bytes, header included, for the sender from.
// sampleTo is a typical recipient, used to estimate the size of the header.
func newMessageTemplate(runID, from, sampleTo string, size int) *messageTemplate {
	t := &messageTemplate{runID: runID, from: from, domain: "mailbench.invalid"}
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		t.domain = from[at+1:]
	}
	header := t.appendHeader(nil, 0, sampleTo, time.Now())
	t.body = makeBody(size - len(header))
	return t
}

// appendHeader appends to dst the header of message number n (RFC 5322 §3.6), with the blank
// line that ends it, and returns the extended buffer.
func (t *messageTemplate) appendHeader(dst []byte, n int64, to string, date time.Time) []byte {
	if t.verbatim {
		return dst
	}
	dst = append(dst, "Date: "...)
	dst = date.AppendFormat(dst, time.RFC1123Z) // RFC 5322 §3.3 date-time
	dst = append(dst, "\r\nFrom: "...)
	dst = append(dst, t.from...)
	dst = append(dst, "\r\nTo: "...)
	dst = append(dst, to...)
	dst = append(dst, "\r\nMessage-ID: <"...)
	dst = t.appendID(dst, n)
	dst = append(dst, '@')
	dst = append(dst, t.domain...)
	dst = append(dst, ">\r\nSubject: mailbench "...)
	dst = t.appendID(dst, n)
	dst = append(dst, "\r\nMIME-Version: 1.0\r\n"...) // RFC 2045 §4
	dst = append(dst, "Content-Type: text/plain; charset=us-ascii\r\n"...)
	dst = append(dst, "Content-Transfer-Encoding: 7bit\r\n\r\n"...)
	return dst
}

// appendID appends the run id and the message number, unique among all runs.
func (t *messageTemplate) appendID(dst []byte, n int64) []byte {
	dst = append(dst, t.runID...)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, n, 10)
}

// makeBody returns a body of size bytes (at least one line) made of printable lines of
// bodyLineLength characters and CRLF; the last line is shorter to reach the size.
func makeBody(size int) []byte {
	const lineSize = bodyLineLength + 2
	size = max(size, lineSize)
	body := make([]byte, 0, size)
	for line := 0; len(body) < size; line++ {
		n := min(bodyLineLength, size-len(body)-2)
		if n < 1 {
			break // one or two bytes short: the size is approximate
		}
		for i := range n {
			body = append(body, bodyAlphabet[(line+i)%len(bodyAlphabet)])
		}
		body = append(body, '\r', '\n')
	}
	return body
}

// expandRecipient replaces "{n}" in the recipient template with the message number modulo 1000,
// which spreads a run over up to a thousand mailboxes.
func expandRecipient(template string, n int64) string {
	if !strings.Contains(template, "{n}") {
		return template
	}
	return strings.ReplaceAll(template, "{n}", strconv.FormatInt(n%1000, 10))
}
