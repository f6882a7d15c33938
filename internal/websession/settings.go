package websession

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"posthorn/internal/audit"
	"posthorn/internal/auth"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// RecoveryCodes is how many recovery codes enabling TOTP makes.
const RecoveryCodes = 10

// recoveryAlphabet spells recovery codes: lower-case letters and digits without the ones
// easily confused (0/o, 1/l/i).
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// TOTPState is an account's second factor as its settings page shows it.
type TOTPState struct {
	Enabled bool
	// Secret and KeyURI: a secret made by BeginTOTP, waiting for its confirming code.
	Secret, KeyURI string
	// RecoveryLeft is the number of unused recovery codes.
	RecoveryLeft int
}

// TOTP returns the account's second factor state.
func (s *Service) TOTP(ctx context.Context, sess Session) (TOTPState, error) {
	wa, err := s.Store.WebAccount(ctx, sess.Account.ID)
	if err != nil {
		return TOTPState{}, err
	}
	st := TOTPState{Enabled: wa.TOTPEnabled}
	if !wa.TOTPEnabled && wa.TOTPSecret != "" {
		st.Secret, st.KeyURI = wa.TOTPSecret, auth.TOTPKeyURI(s.Issuer, sess.Account.Address, wa.TOTPSecret)
	}
	if st.RecoveryLeft, err = s.Store.RecoveryCodesLeft(ctx, sess.Account.ID); err != nil {
		return TOTPState{}, err
	}
	return st, nil
}

// BeginTOTP makes a new secret for the account, not yet enabled: it is shown to the user
// (TOTP's Secret and KeyURI) until ConfirmTOTP gets a code of it. operr.Exists if TOTP is on.
func (s *Service) BeginTOTP(ctx context.Context, sess Session) error {
	wa, err := s.Store.WebAccount(ctx, sess.Account.ID)
	if err != nil {
		return err
	}
	if wa.TOTPEnabled {
		return operr.New(operr.Exists, "totp", "", nil, "two-factor authentication is already on")
	}
	secret, err := auth.NewTOTPSecret()
	if err != nil {
		return err
	}
	return s.Store.SetTOTP(ctx, sess.Account.ID, secret, false)
}

// ConfirmTOTP turns TOTP on when code is a current code of the secret BeginTOTP made, and
// returns the new recovery codes (shown once; only their hashes are kept).
func (s *Service) ConfirmTOTP(ctx context.Context, sess Session, code string) ([]string, error) {
	wa, err := s.Store.WebAccount(ctx, sess.Account.ID)
	if err != nil {
		return nil, err
	}
	if wa.TOTPEnabled || wa.TOTPSecret == "" {
		return nil, operr.New(operr.Invalid, "code", "", nil, "start the set-up of two-factor authentication first")
	}
	key, err := auth.DecodeTOTPSecret(wa.TOTPSecret)
	if err != nil {
		return nil, fmt.Errorf("totp secret of %s: %w", sess.Account.Address, err)
	}
	// A wrong code changes nothing: the user may try again with the next one.
	step, ok := auth.CheckTOTP(key, code, s.now())
	if !ok {
		return nil, operr.New(operr.Invalid, "code", "", nil, "the code is not right; check the authenticator app's clock and try the next code")
	}
	if err := s.Store.SetTOTP(ctx, sess.Account.ID, wa.TOTPSecret, true); err != nil {
		return nil, err
	}
	// The confirming code is used up: it cannot log in as well.
	if _, err := s.Store.UseTOTPStep(ctx, sess.Account.ID, int64(step)); err != nil {
		return nil, err
	}
	codes, err := s.newRecoveryCodes(ctx, sess.Account.ID)
	if err != nil {
		return nil, err
	}
	s.Logger.Info("web TOTP enabled", "user", sess.Account.Address)
	return codes, s.record(ctx, "user.totp", sess.Account.Address, audit.Details{"enabled": true})
}

// newRecoveryCodes replaces the account's recovery codes and returns them.
func (s *Service) newRecoveryCodes(ctx context.Context, accountID int64) ([]string, error) {
	codes := make([]string, RecoveryCodes)
	hashes := make([]string, RecoveryCodes)
	for i := range codes {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("recovery code: %w", err)
		}
		var c strings.Builder
		for j, x := range b {
			if j == 5 {
				c.WriteByte('-')
			}
			c.WriteByte(recoveryAlphabet[int(x)%len(recoveryAlphabet)])
		}
		codes[i], hashes[i] = c.String(), hashRecoveryCode(c.String())
	}
	if err := s.Store.SetRecoveryCodes(ctx, accountID, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// hashRecoveryCode is the stored form of a recovery code, as typed (case, spaces and dashes
// ignored).
func hashRecoveryCode(code string) string {
	c := strings.ToLower(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	h := sha256.Sum256([]byte(c))
	return hex.EncodeToString(h[:])
}

// isTOTPCode tells a TOTP code (six digits) from a password.
func isTOTPCode(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != auth.TOTPDigits {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// DisableTOTP turns TOTP off and deletes the recovery codes, when proof is a current code or
// the account's password (six digits are taken for a code), each checked with throttling.
// ErrInvalid for a wrong proof.
func (s *Service) DisableTOTP(ctx context.Context, sess Session, proof string, c Client) error {
	var err error
	if isTOTPCode(proof) {
		_, err = s.Auth.CheckSecondFactor(ctx, Protocol, sess.Account.Address, c.Addr,
			func(ctx context.Context, _ store.Account) (bool, error) {
				return s.checkCode(ctx, sess.Account.ID, proof, false)
			})
	} else {
		_, err = s.Auth.LoginPassword(ctx, Protocol, sess.Account.Address, proof, c.Addr)
	}
	if err != nil {
		return err
	}
	if err := s.Store.SetTOTP(ctx, sess.Account.ID, "", false); err != nil {
		return err
	}
	if err := s.Store.SetRecoveryCodes(ctx, sess.Account.ID, nil); err != nil {
		return err
	}
	s.Logger.Info("web TOTP disabled", "user", sess.Account.Address)
	return s.record(ctx, "user.totp", sess.Account.Address, audit.Details{"enabled": false})
}

// record appends action on target to the audit log once a self-service change is done, with
// the actor of ctx (the session's account, which the web UI puts there). The password change
// is recorded by Passwords (admin's SetPassword: "user.password", no details), and app
// passwords by admin's operations, which the UI calls directly; what is recorded here is the
// second factor, "user.totp" with enabled true or false (never its secret or recovery codes).
func (s *Service) record(ctx context.Context, action, target string, details audit.Details) error {
	log, err := audit.For(s.Store)
	if err == nil {
		err = log.Record(ctx, action, target, details)
	}
	if err != nil {
		return fmt.Errorf("%s %s done, but not recorded in the audit log: %w", action, target, err)
	}
	return nil
}

// ChangePassword sets the account's password to next when current is its password (checked
// with throttling; ErrInvalid otherwise), by the server's rules (Passwords: an *operr.Error
// for a password refused), and ends the account's other web sessions.
func (s *Service) ChangePassword(ctx context.Context, sess Session, current, next string, c Client) error {
	if _, err := s.Auth.LoginPassword(ctx, Protocol, sess.Account.Address, current, c.Addr); err != nil {
		return err
	}
	if err := s.Passwords.SetPassword(ctx, sess.Account.Address, next); err != nil {
		return err
	}
	if _, err := s.Store.DeleteWebSessions(ctx, sess.Account.ID, sess.Hash); err != nil {
		return fmt.Errorf("end other web sessions of %s: %w", sess.Account.Address, err)
	}
	s.Logger.Info("web password changed", "user", sess.Account.Address)
	return nil
}
