package credentials

import (
	"context"
	"crypto/rand"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-sasl"

	"posthorn/internal/address"
	"posthorn/internal/auth"
	"posthorn/internal/store"
)

// SASL returns the server side of mechanism (auth.MechPlain, auth.MechLogin, auth.MechSCRAM)
// for protocol, checking credentials with the same throttling, logs and metrics as Login.
// onLogin is called with the account once the client is authenticated, before the exchange
// reports success.
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
	case auth.MechPlain:
		return auth.NewPlainServer(login), nil
	case auth.MechLogin:
		return auth.NewLoginServer(login), nil
	case auth.MechSCRAM:
		return a.scram(ctx, protocol, remote, onLogin), nil
	}
	return nil, auth.ErrUnknownMechanism
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
	log := a.logger.With("proto", protocol, "remote", remote.String(), "mech", auth.MechSCRAM)
	lookup := func(username string) (auth.SCRAMSalt, []auth.SCRAMKeys, error) {
		addr, perr := address.Parse(username)
		acctKey = username
		if perr == nil {
			acctKey = addr.String()
		}
		var err error
		if who, err = a.identify(ctx, addr, perr, source); err != nil {
			return auth.SCRAMSalt{}, nil, err
		}
		var delay time.Duration
		var refused bool
		att, delay, refused, err = a.begin(ctx, source, acctKey, who.known)
		if err != nil {
			return auth.SCRAMSalt{}, nil, err
		}
		if refused {
			a.results.WithLabelValues(protocol, "throttled").Inc()
			log.Warn("login refused: too many failures", "user", acctKey)
			return auth.SCRAMSalt{}, nil, ErrThrottled
		}
		if delay > 0 {
			if err := a.sleep(ctx, delay); err != nil {
				a.refund(ctx, att)
				return auth.SCRAMSalt{}, nil, err
			}
		}
		fake := auth.FakeSCRAMSalt(a.secret, acctKey)
		if !who.found {
			return fake, nil, nil
		}
		salt, keys, err := a.store.SCRAMCredentials(ctx, who.acc.ID)
		if errors.Is(err, store.ErrNotFound) {
			return fake, nil, nil
		}
		if err != nil {
			a.refund(ctx, att)
			return auth.SCRAMSalt{}, nil, err
		}
		return salt, keys, nil
	}
	finish := func(username string, ok bool) error {
		if !ok {
			a.results.WithLabelValues(protocol, "failed").Inc()
			log.Info("login failed", "user", acctKey)
			return nil
		}
		a.refund(ctx, att)
		a.succeeded(ctx, who, source, log)
		a.results.WithLabelValues(protocol, "ok").Inc()
		log.Debug("login succeeded", "user", acctKey)
		onLogin(who.acc)
		return nil
	}
	return auth.NewSCRAMServer(lookup, finish)
}

func newSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return b
}
