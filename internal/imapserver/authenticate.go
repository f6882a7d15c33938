package imapserver

import (
	"bytes"
	"encoding/base64"

	"posthorn/internal/auth"
)

type authenticateArgs struct {
	mechanism string // upper case
	initial   string // SASL-IR initial response, base64 or "=" (RFC 4959)
	hasIR     bool
}

// parseAuthenticate: AUTHENTICATE SP auth-type [SP (base64 / "=")] (RFC 9051 §6.2.2, RFC 4959).
func parseAuthenticate(p *parser, c *command) error {
	a := &authenticateArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	mech, err := p.keyword()
	if err != nil {
		return err
	}
	a.mechanism = mech
	if p.consume(' ') {
		a.initial = p.takeWhile(isBase64Char)
		if a.initial == "" {
			return p.missing("initial response")
		}
		a.hasIR = true
	}
	return nil
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '='
}

// maxSASLLine bounds a client's SASL response line.
const maxSASLLine = 8 << 10

// cmdAuthenticate: AUTHENTICATE (RFC 9051 §6.2.2) with the PLAIN mechanism (RFC 4616) or
// SCRAM-SHA-256 (scram.go) and an optional initial response (SASL-IR, RFC 4959).
func (s *session) cmdAuthenticate(c *command) error {
	a := c.args.(*authenticateArgs)
	if a.mechanism == auth.MechSCRAM {
		return s.authenticateSCRAM(a)
	}
	if a.mechanism != "PLAIN" {
		return no("CANNOT", "unsupported authentication mechanism")
	}
	if !s.plaintextAuthAllowed() {
		return no("PRIVACYREQUIRED", "AUTHENTICATE PLAIN is disabled until STARTTLS")
	}
	resp := a.initial
	if !a.hasIR {
		s.bw.WriteString("+ \r\n")
		if err := s.bw.Flush(); err != nil {
			return &connError{err}
		}
		line, err := s.readLine(maxSASLLine)
		if err != nil {
			return err
		}
		resp = line
	}
	if resp == "*" {
		return badf("authentication cancelled") // RFC 9051 §6.2.2
	}
	if resp == "=" { // an empty initial response (RFC 4959 §3)
		resp = ""
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return badf("invalid base64 in SASL response")
	}
	// message = [authzid] NUL authcid NUL passwd (RFC 4616 §2).
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 {
		return badf("invalid PLAIN response")
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		return no("AUTHORIZATIONFAILED", "cannot act as another user") // RFC 5530
	}
	return s.login(user, pass)
}
