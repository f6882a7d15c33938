package pop3server

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"

	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

// cmdUser: USER (RFC 1939 §7). Refused without TLS unless the server allows plaintext logins on
// loopback (RFC 2595 §4).
func (s *session) cmdUser(args []string) error {
	if !s.plaintextAuthAllowed() {
		return errorf("AUTH", "plaintext authentication is disabled until STLS")
	}
	s.user = args[0]
	s.ok("send PASS")
	return nil
}

// cmdPass: PASS (RFC 1939 §7), right after USER. The password is the rest of the line.
func (s *session) cmdPass(args []string) error {
	if s.user == "" {
		return badf("USER first")
	}
	user := s.user
	s.user = ""
	return s.login(user, args[0])
}

// saslMechanisms are the SASL mechanisms offered: PLAIN (RFC 4616) only.
// SCRAM-SHA-256 needs SCRAM credentials stored beside the argon2id hash, which the store does
// not have yet.
const saslMechanisms = "PLAIN SCRAM-SHA-256"

// cmdAuth: AUTH (RFC 5034) with the PLAIN mechanism (RFC 4616) or SCRAM-SHA-256 (scram.go)
// and an optional initial response. Without arguments it lists the mechanisms, as clients of RFC 1734 expect.
func (s *session) cmdAuth(args []string) error {
	if len(args) == 0 {
		s.ok("SASL mechanisms follow")
		if s.plaintextAuthAllowed() {
			s.bw.WriteString(saslMechanisms + "\r\n")
		}
		s.bw.WriteString(".\r\n")
		return nil
	}
	if strings.EqualFold(args[0], auth.MechSCRAM) {
		return s.authSCRAM(args[1:])
	}
	if !strings.EqualFold(args[0], "PLAIN") {
		return errorf("", "unsupported authentication mechanism")
	}
	if !s.plaintextAuthAllowed() {
		return errorf("AUTH", "AUTH PLAIN is disabled until STLS")
	}
	var resp string
	if len(args) == 2 {
		resp = args[1]
		if resp == "=" { // an empty initial response (RFC 5034 §4)
			resp = ""
		}
	} else {
		s.bw.WriteString("+ \r\n") // the empty challenge of PLAIN
		if err := s.bw.Flush(); err != nil {
			return &connError{err}
		}
		line, err := s.readLine()
		if err != nil {
			return err
		}
		if line == "*" {
			return errorf("", "authentication cancelled") // RFC 5034 §4
		}
		resp = line
	}
	raw, err := base64.StdEncoding.DecodeString(resp)
	if err != nil {
		return errorf("", "invalid base64 in SASL response")
	}
	// message = [authzid] NUL authcid NUL passwd (RFC 4616 §2).
	parts := bytes.Split(raw, []byte{0})
	if len(parts) != 3 {
		return errorf("", "invalid PLAIN response")
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		return errorf("AUTH", "cannot act as another user")
	}
	return s.login(user, pass)
}

// login checks credentials, locks the account's maildrop and opens it: the TRANSACTION state.
// Response codes: [AUTH] for wrong credentials (RFC 3206 §4), [LOGIN-DELAY] when the shared
// throttling refuses the attempt (RFC 2449 §8.1.1: not now, try again later), [IN-USE] when
// another session holds the maildrop (§8.1.2), [SYS/TEMP] for a failure of the server
// (RFC 3206 §4).
func (s *session) login(user, password string) error {
	acc, err := s.server.Auth.Login(s.ctx, "pop3", user, password, s.remote)
	if err != nil {
		if !errors.Is(err, auth.ErrInvalidCredentials) && !errors.Is(err, credentials.ErrThrottled) {
			s.logger.Error("login", "err", err)
		}
		return loginError(err)
	}
	return s.enter(acc)
}

// enter locks the authenticated account's maildrop and opens it: the TRANSACTION state.
func (s *session) enter(acc store.Account) error {
	if !s.server.lock(acc.ID) {
		s.logger.Info("login refused: maildrop in use", "account", acc.Address)
		return errorf("IN-USE", "the maildrop is in use by another POP3 session")
	}
	if s.server.Leases != nil {
		// The connection closed on a lost lease ends the session before it can delete
		// anything under another's lock.
		lease, ok, err := s.server.acquireLease(s.ctx, acc.ID, func() { _ = s.nc.Close() })
		if err != nil || !ok {
			s.server.unlock(acc.ID)
			if err != nil {
				s.logger.Error("take maildrop lock", "account", acc.Address, "err", err)
				return errorf("SYS/TEMP", "cannot open the maildrop now, try again later")
			}
			s.logger.Info("login refused: maildrop in use on another node", "account", acc.Address)
			return errorf("IN-USE", "the maildrop is in use by another POP3 session")
		}
		s.lease = lease
	}
	drop, err := openMaildrop(s.ctx, s.server.Store, acc)
	if err != nil {
		s.releaseLock(acc.ID)
		s.logger.Error("open maildrop", "account", acc.Address, "err", err)
		return errorf("SYS/TEMP", "cannot open the maildrop now, try again later")
	}
	s.account, s.drop, s.state = acc, drop, stateTransaction
	s.logger = s.logger.With("account", acc.Address)
	s.logger.Info("logged in", "tls", s.tls, "messages", len(drop.msgs))
	s.ok("%s has %d messages (%d octets)", acc.Address, drop.count, drop.size)
	return nil
}

// loginError is the response to a login that Authenticator.Login refused with err.
func loginError(err error) error {
	switch {
	case errors.Is(err, auth.ErrInvalidCredentials):
		return errorf("AUTH", "invalid credentials")
	case errors.Is(err, credentials.ErrThrottled):
		return errorf("LOGIN-DELAY", "too many failed logins, try again later")
	default:
		return errorf("SYS/TEMP", "authentication is not available now, try again later")
	}
}

// cmdSTLS: STLS (RFC 2595 §4). The +OK goes in clear, then the handshake; the session stays
// in the AUTHORIZATION state and forgets a USER given before.
func (s *session) cmdSTLS(args []string) error {
	if s.server.TLSConfig == nil || s.tls {
		return errorf("", "STLS not available")
	}
	s.ok("begin TLS negotiation")
	if err := s.bw.Flush(); err != nil {
		return &connError{err}
	}
	if err := s.startTLS(); err != nil {
		return &connError{err}
	}
	s.user = ""
	return nil
}
