package imapserver

import (
	"bytes"
	"encoding/base64"

	"posthorn/internal/auth"
)

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
