package imapserver

import (
	"errors"

	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

// authenticateSCRAM: AUTHENTICATE SCRAM-SHA-256 (RFC 7677, RFC 5802) over the shared
// authenticator. Each server message goes out as a "+ " continuation in base64 and the client
// answers each with a base64 line; after server-final-message the client answers an empty
// line and the tagged OK follows. Like PLAIN it needs TLS (or an allowed loopback client):
// SCRAM protects the password, not the session.
func (s *session) authenticateSCRAM(a *authenticateArgs) error {
	if !s.plaintextAuthAllowed() {
		return no("PRIVACYREQUIRED", "AUTHENTICATE is disabled until STARTTLS")
	}
	var acc store.Account
	srv, err := s.server.Auth.SASL(s.ctx, auth.MechSCRAM, "imap", s.remote, func(a store.Account) { acc = a })
	if err != nil {
		return no("CANNOT", "unsupported authentication mechanism")
	}
	initial := ""
	if a.hasIR {
		initial = a.initial
	}
	err = auth.LineExchange{
		W:           s.bw,
		WriteFailed: func(err error) error { return &connError{err} },
		ReadLine:    func() (string, error) { return s.readLine(maxSASLLine) },
		Cancelled:   badf("authentication cancelled"), // RFC 9051 §6.2.2
		BadBase64:   badf("invalid base64 in SASL response"),
	}.Run(srv, initial)
	var r *response
	switch {
	case err == nil:
		s.loggedIn(acc)
		return okCode("CAPABILITY "+s.capabilities(), "logged in")
	case errors.As(err, &r):
		return r
	case errors.Is(err, auth.ErrSASLSyntax):
		return badf("invalid SCRAM message")
	case errors.Is(err, auth.ErrInvalidCredentials), errors.Is(err, auth.ErrChannelBinding):
		return no("AUTHENTICATIONFAILED", "invalid credentials") // RFC 5530
	case errors.Is(err, credentials.ErrThrottled):
		return no("UNAVAILABLE", "too many failed logins, try again later")
	}
	var ce *connError
	if errors.As(err, &ce) {
		return err
	}
	s.logger.Error("authenticate", "err", err)
	return no("UNAVAILABLE", "authentication is not available now, try again later")
}
