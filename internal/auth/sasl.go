package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// SASL mechanism names (RFC 4422) offered by every protocol that authenticates.
const (
	MechPlain = "PLAIN"         // RFC 4616
	MechLogin = "LOGIN"         // draft-murchison-sasl-login; only SMTP clients use it
	MechSCRAM = "SCRAM-SHA-256" // RFC 5802, RFC 7677
)

// ErrUnknownMechanism is returned by SASL for a mechanism not offered.
var ErrUnknownMechanism = errors.New("unknown SASL mechanism")

// SASL returns the server side of mechanism for protocol, checking credentials through a with
// the same throttling, logs and metrics as Login. onLogin is called with the account once the
// client is authenticated, before the exchange reports success.
func (a *Authenticator) SASL(ctx context.Context, mechanism, protocol string, remote netip.Addr, onLogin func(store.Account)) (sasl.Server, error) {
	login := func(username, password string) error {
		acc, err := a.Login(ctx, protocol, username, password, remote)
		if err != nil {
			return err
		}
		onLogin(acc)
		return nil
	}
	switch strings.ToUpper(mechanism) {
	case MechPlain:
		return &plainServer{login: login}, nil
	case MechLogin:
		return &loginServer{login: login}, nil
	case MechSCRAM:
		return a.scram(ctx, protocol, remote, onLogin), nil
	}
	return nil, ErrUnknownMechanism
}

// plainServer is the PLAIN mechanism (RFC 4616): one message, [authzid] NUL authcid NUL
// passwd, after an empty challenge when the client gave no initial response. A malformed
// message is ErrSASLSyntax; acting as another user is not offered.
type plainServer struct {
	login func(username, password string) error
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
	login    func(username, password string) error
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

// scram returns a SCRAM-SHA-256 exchange over the account's credentials: its password's keys
// and its app passwords'. The attempt takes its place in the throttling counts and waits their
// delay before the server-first-message; only a proof that matches gives the place back, so an
// exchange the client abandons counts as a failure. SCRAM checks no argon2id hash: its keys
// were derived when the credential was set.
func (a *Authenticator) scram(ctx context.Context, protocol string, remote netip.Addr, onLogin func(store.Account)) sasl.Server {
	source := ipPrefix(remote)
	var who identity
	var att attempt
	var acctKey string
	log := a.logger.With("proto", protocol, "remote", remote.String(), "mech", MechSCRAM)
	return &scramServer{
		nonce: randomNonce,
		lookup: func(username string) (store.SCRAMSalt, []store.SCRAMKeys, error) {
			addr, perr := address.Parse(username)
			acctKey = username
			if perr == nil {
				acctKey = addr.String()
			}
			var err error
			if who, err = a.identify(ctx, addr, perr, source); err != nil {
				return store.SCRAMSalt{}, nil, err
			}
			var delay time.Duration
			var refused bool
			att, delay, refused = a.begin(source, acctKey, who.known)
			if refused {
				a.results.WithLabelValues(protocol, "throttled").Inc()
				log.Warn("login refused: too many failures", "user", acctKey)
				return store.SCRAMSalt{}, nil, ErrThrottled
			}
			if delay > 0 {
				if err := a.sleep(ctx, delay); err != nil {
					a.refund(att)
					return store.SCRAMSalt{}, nil, err
				}
			}
			fake := store.SCRAMSalt{Salt: a.fakeSalt(acctKey), Iterations: SCRAMIterations}
			cs, ok := a.store.(store.SubmissionStore)
			if !who.found || !ok {
				return fake, nil, nil
			}
			salt, keys, err := cs.SCRAMCredentials(ctx, who.acc.ID)
			if errors.Is(err, store.ErrNotFound) {
				return fake, nil, nil
			}
			if err != nil {
				a.refund(att)
			}
			return salt, keys, err
		},
		finish: func(username string, ok bool) error {
			if !ok {
				a.results.WithLabelValues(protocol, "failed").Inc()
				log.Info("login failed", "user", acctKey)
				return nil
			}
			a.refund(att)
			a.succeeded(ctx, who, source, log)
			a.results.WithLabelValues(protocol, "ok").Inc()
			log.Debug("login succeeded", "user", acctKey)
			onLogin(who.acc)
			return nil
		},
	}
}

// fakeSalt is the salt shown for an unknown user or one without SCRAM keys: stable per name
// for this Authenticator's life, so probing the salt does not tell which accounts exist.
func (a *Authenticator) fakeSalt(username string) []byte {
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(strings.ToLower(username)))
	return m.Sum(nil)[:saltLen]
}

func newSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}

// Exchange runs srv to its end for a line-based protocol (IMAP AUTHENTICATE, POP3 AUTH): it
// starts with the initial response when the client gave one (ir may then be empty), and
// otherwise calls challenge for every server message and passes on the client's decoded
// answer. challenge writes "+ " and the base64 challenge and reads the client's line; it
// returns the protocol's own error for a cancelled exchange or bad base64, which Exchange
// returns as is.
func Exchange(srv sasl.Server, ir []byte, challenge func([]byte) ([]byte, error)) error {
	resp := ir
	for {
		next, done, err := srv.Next(resp)
		if err != nil || done {
			return err
		}
		if resp, err = challenge(next); err != nil {
			return err
		}
	}
}
