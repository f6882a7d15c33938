package imapserver

import (
	"errors"

	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

type loginArgs struct{ user, password string }

// parseLogin: LOGIN SP userid SP password, both astrings (RFC 9051 §6.2.3).
func parseLogin(p *parser, c *command) error {
	a := &loginArgs{}
	c.args = a
	if err := p.spAstring(&a.user); err != nil {
		return err
	}
	return p.spAstring(&a.password)
}

// cmdLogin: LOGIN (RFC 9051 §6.2.3). Refused without TLS unless the server allows plaintext
// logins on loopback; checked by the shared authenticator, which throttles failures.
func (s *session) cmdLogin(c *command) error {
	a := c.args.(*loginArgs)
	if !s.plaintextAuthAllowed() {
		return no("PRIVACYREQUIRED", "LOGIN is disabled until STARTTLS") // RFC 5530
	}
	return s.login(a.user, a.password)
}

// login checks credentials and, when they are right, enters the authenticated state.
func (s *session) login(user, password string) error {
	acc, err := s.server.Auth.Login(s.ctx, "imap", user, password, s.remote)
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return no("AUTHENTICATIONFAILED", "invalid credentials") // RFC 5530
	case errors.Is(err, credentials.ErrThrottled):
		return no("UNAVAILABLE", "too many failed logins, try again later")
	case err != nil:
		s.logger.Error("login", "err", err)
		return no("UNAVAILABLE", "authentication is not available now, try again later")
	}
	s.loggedIn(acc)
	return okCode("CAPABILITY "+s.capabilities(), "logged in")
}

// loggedIn enters the authenticated state as acc and subscribes to its change feed.
func (s *session) loggedIn(acc store.Account) {
	s.account = acc
	s.state = stateAuthenticated
	s.logger = s.logger.With("account", acc.Address)
	s.changes, s.unsubscribe = s.server.Store.Subscribe(acc.ID)
	s.logger.Info("logged in", "tls", s.tls)
}
