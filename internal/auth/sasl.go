package auth

import (
	"bytes"
	"errors"

	"github.com/emersion/go-sasl"
)

// SASL mechanism names (RFC 4422) offered by every protocol that authenticates.
const (
	MechPlain = "PLAIN"         // RFC 4616
	MechLogin = "LOGIN"         // draft-murchison-sasl-login; only SMTP clients use it
	MechSCRAM = "SCRAM-SHA-256" // RFC 5802, RFC 7677
)

// Errors of the mechanisms. Protocols map ErrInvalidCredentials to their "authentication
// failed" reply and ErrSASLSyntax to their syntax error reply.
var (
	ErrUnknownMechanism   = errors.New("unknown SASL mechanism")
	ErrInvalidCredentials = errors.New("invalid credentials")
	// ErrSASLSyntax is returned for a client message that does not parse.
	ErrSASLSyntax = errors.New("malformed SASL message")
)

// CheckLogin checks a username and password that a mechanism received; its error ends the
// exchange as is.
type CheckLogin func(username, password string) error

// NewPlainServer returns the server side of PLAIN (RFC 4616) over login.
func NewPlainServer(login CheckLogin) sasl.Server { return &plainServer{login: login} }

// NewLoginServer returns the server side of LOGIN over login.
func NewLoginServer(login CheckLogin) sasl.Server { return &loginServer{login: login} }

// plainServer is the PLAIN mechanism (RFC 4616): one message, [authzid] NUL authcid NUL
// passwd, after an empty challenge when the client gave no initial response. A malformed
// message is ErrSASLSyntax; acting as another user is not offered.
type plainServer struct {
	login CheckLogin
	done  bool
}

func (p *plainServer) Next(response []byte) ([]byte, bool, error) {
	if p.done {
		return nil, false, ErrSASLSyntax
	}
	if response == nil {
		return []byte{}, false, nil
	}
	p.done = true
	parts := bytes.Split(response, []byte{0})
	if len(parts) != 3 {
		return nil, false, ErrSASLSyntax
	}
	authz, user, pass := string(parts[0]), string(parts[1]), string(parts[2])
	if authz != "" && authz != user {
		return nil, false, ErrInvalidCredentials
	}
	if err := p.login(user, pass); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// loginServer is the LOGIN mechanism: the server asks "Username:" then "Password:" and the
// client answers each; an initial response is the username.
type loginServer struct {
	login    CheckLogin
	step     int
	username string
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	switch l.step {
	case 0:
		l.step = 1
		if response == nil {
			return []byte("Username:"), false, nil
		}
		return l.Next(response)
	case 1:
		l.username = string(response)
		l.step = 2
		return []byte("Password:"), false, nil
	case 2:
		l.step = 3
		return nil, true, l.login(l.username, string(response))
	}
	return nil, false, ErrSASLSyntax
}
