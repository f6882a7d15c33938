package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"

	"posthorn/internal/store"
)

// AddAccount creates an account with password: its argon2id hash and SCRAM keys.
func AddAccount(ctx context.Context, st store.Store, address, password string) (store.Account, error) {
	hash, err := HashPassword(password)
	if err != nil {
		return store.Account{}, err
	}
	acc, err := st.AddAccount(ctx, address, hash)
	if err != nil {
		return store.Account{}, err
	}
	return acc, setSCRAM(ctx, st, acc, password)
}

// SetPassword replaces an account's password: its argon2id hash and SCRAM keys. The store drops
// the old SCRAM keys as soon as the hash changes, so the old password never passes SCRAM.
func SetPassword(ctx context.Context, st store.Store, address, password string) error {
	hash, err := HashPassword(password)
	if err != nil {
		return err
	}
	if err := st.SetPassword(ctx, address, hash); err != nil {
		return err
	}
	acc, err := st.GetAccount(ctx, address)
	if err != nil {
		return err
	}
	return setSCRAM(ctx, st, acc, password)
}

func setSCRAM(ctx context.Context, st store.Store, acc store.Account, password string) error {
	cs, ok := st.(store.SubmissionStore)
	if !ok {
		return nil
	}
	salt, err := accountSalt(ctx, cs, acc)
	if err != nil {
		return err
	}
	keys, err := DeriveSCRAM(password, salt)
	if err != nil {
		return err
	}
	return cs.SetAccountSCRAM(ctx, acc.ID, keys)
}

func accountSalt(ctx context.Context, cs store.SubmissionStore, acc store.Account) (store.SCRAMSalt, error) {
	fresh, err := NewSCRAMSalt()
	if err != nil {
		return store.SCRAMSalt{}, err
	}
	return cs.EnsureSCRAMSalt(ctx, acc.ID, fresh)
}

// ErrNoSubmissionStore is returned when the store keeps no app passwords.
var ErrNoSubmissionStore = errors.New("this store keeps no app passwords, send-as or DKIM keys")

// appKeyName names the server secret that keys the app passwords' hashes.
const appKeyName = "app-password-key"

// keyedPrefix starts the stored form of an app password: "$hmac-sha256$" and the base64 of
// HMAC-SHA-256(server secret, password).
const keyedPrefix = "$hmac-sha256$"

// appPasswordKey returns the server secret of the app passwords' keyed hashes, making it the
// first time.
func appPasswordKey(ctx context.Context, ls store.LoginStore) ([]byte, error) {
	return ls.ServerSecret(ctx, appKeyName, newSecret())
}

// keyedHash is the stored form of an app password under key.
func keyedHash(key []byte, password string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(password))
	return keyedPrefix + b64.EncodeToString(m.Sum(nil))
}

// isKeyed tells the keyed form of an app password from an argon2id one (written before keyed
// hashes existed).
func isKeyed(hash string) bool { return strings.HasPrefix(hash, keyedPrefix) }

// AddAppPassword generates an app password called name for the account at address, stores its
// keyed hash and SCRAM keys, and returns it: it is shown once and never stored in clear. App
// passwords are random (RandomPassword: 20 characters of 56, over 110 bits), so a fast keyed hash protects them as
// well as argon2id would and lets a login find one by its hash instead of trying each.
func AddAppPassword(ctx context.Context, st store.Store, address, name string) (string, error) {
	cs, ok := st.(store.SubmissionStore)
	ls, lok := st.(store.LoginStore)
	if !ok || !lok {
		return "", ErrNoSubmissionStore
	}
	if name == "" {
		return "", errors.New("app password name must not be empty")
	}
	acc, err := st.GetAccount(ctx, address)
	if err != nil {
		return "", err
	}
	password, err := RandomPassword()
	if err != nil {
		return "", err
	}
	key, err := appPasswordKey(ctx, ls)
	if err != nil {
		return "", err
	}
	hash := keyedHash(key, password)
	salt, err := accountSalt(ctx, cs, acc)
	if err != nil {
		return "", err
	}
	keys, err := DeriveSCRAM(password, salt)
	if err != nil {
		return "", err
	}
	if _, err := cs.AddAppPassword(ctx, store.AppPassword{AccountID: acc.ID, Name: name, PasswordHash: hash, SCRAM: keys}); err != nil {
		return "", fmt.Errorf("app password %q of %s: %w", name, address, err)
	}
	return password, nil
}
