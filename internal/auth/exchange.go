package auth

import (
	"bufio"
	"encoding/base64"

	"github.com/emersion/go-sasl"
)

// LineExchange is the framing of a SASL exchange in a line-based protocol: IMAP AUTHENTICATE
// (RFC 9051 §6.2.2) and POP3 AUTH (RFC 5034 §4) frame it the same way. Each server message
// goes out as "+ " and its base64 on a line of its own; the client answers each with a line of
// base64, or "*" to cancel. What differs between protocols is how lines are written and read
// and which replies end a cancelled or garbled exchange, so those are the fields.
type LineExchange struct {
	// W is the session's writer: each challenge is written to it with CRLF and flushed.
	W *bufio.Writer
	// WriteFailed turns an error of W into the one that ends the exchange.
	WriteFailed func(err error) error
	// ReadLine reads the client's next line, without CRLF. Its error ends the exchange as is.
	ReadLine func() (string, error)
	// Cancelled is returned when the client answers "*".
	Cancelled error
	// BadBase64 is returned for a client line, or an initial response, that is not base64.
	BadBase64 error
}

// Run runs srv to its end. initial is the client's initial response as it appeared on the
// command line (SASL-IR, RFC 4959; RFC 5034 §4): "" when there was none, "=" for an empty one.
// Run returns srv's error, or one of the exchange's own (LineExchange's fields and the
// functions' errors) as is.
func (x LineExchange) Run(srv sasl.Server, initial string) error {
	var resp []byte
	switch initial {
	case "":
	case "=":
		resp = []byte{}
	default:
		var err error
		if resp, err = base64.StdEncoding.DecodeString(initial); err != nil {
			return x.BadBase64
		}
	}
	for {
		challenge, done, err := srv.Next(resp)
		if err != nil || done {
			return err
		}
		x.W.WriteString("+ " + base64.StdEncoding.EncodeToString(challenge) + "\r\n")
		if err := x.W.Flush(); err != nil {
			return x.WriteFailed(err)
		}
		line, err := x.ReadLine()
		if err != nil {
			return err
		}
		if line == "*" {
			return x.Cancelled
		}
		if resp, err = base64.StdEncoding.DecodeString(line); err != nil {
			return x.BadBase64
		}
	}
}
