package pop3server

import (
	"errors"

	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

// authSCRAM: AUTH SCRAM-SHA-256 (RFC 5034, RFC 7677) over the shared authenticator. Each
// server message goes out as "+ base64"; the client answers each with a base64 line (an
// empty one after server-final-message), then the maildrop opens as after PASS. Like PLAIN it
// needs TLS or an allowed loopback client. args holds the initial response, if any.
func (s *session) authSCRAM(args []string) error {
	if !s.plaintextAuthAllowed() {
		return errorf("AUTH", "AUTH is disabled until STLS")
	}
	var acc store.Account
	srv, err := s.server.Auth.SASL(s.ctx, auth.MechSCRAM, "pop3", s.remote, func(a store.Account) { acc = a })
	if err != nil {
		return errorf("", "unsupported authentication mechanism")
	}
	initial := ""
	if len(args) == 1 {
		initial = args[0]
	}
	err = auth.LineExchange{
		W:           s.bw,
		WriteFailed: func(err error) error { return &connError{err} },
		ReadLine:    s.readLine,
		Cancelled:   errorf("", "authentication cancelled"), // RFC 5034 §4
		BadBase64:   errorf("", "invalid base64 in SASL response"),
	}.Run(srv, initial)
	var reply *errReply
	var ce *connError
	switch {
	case err == nil:
		return s.enter(acc)
	case errors.As(err, &reply), errors.As(err, &ce):
		return err
	case errors.Is(err, auth.ErrSASLSyntax):
		return errorf("", "invalid SCRAM message")
	case errors.Is(err, auth.ErrChannelBinding):
		return loginError(auth.ErrInvalidCredentials)
	case !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, credentials.ErrThrottled):
		s.logger.Error("login", "err", err)
	}
	return loginError(err)
}
