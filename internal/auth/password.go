// Package auth checks credentials for every protocol: password hashing, app passwords, SASL
// mechanisms and login throttling.
//
// Passwords are stored as argon2id hashes (RFC 9106) in the PHC string format
// "$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>", so the parameters travel with each hash and
// can be raised later without invalidating stored passwords.
//
// App passwords (AddAppPassword) are generated passwords an account may have several of, each
// with a name; they are stored like the password (argon2id plus SCRAM keys) and Login accepts
// them wherever it accepts the password, after the password itself failed.
//
// SASL (Authenticator.SASL): PLAIN (RFC 4616), LOGIN and SCRAM-SHA-256 (RFC 5802, RFC 7677,
// without channel binding: no -PLUS variant, a "p=" gs2 flag fails). SCRAM needs the stored
// keys of RFC 5802 §3 (StoredKey, ServerKey) under a salt and iteration count; they are derived
// whenever a password or app password is set (AddAccount, SetPassword, AddAppPassword). One salt
// serves all credentials of an account because the server names the salt before it knows which
// credential the client holds; the proof is then checked against each. An account whose
// password was set before SCRAM keys existed (or by a tool that only wrote the hash) has no
// keys for its password until the password is set again: SCRAM then fails exactly like a wrong
// password (the exchange shows a fake salt, as for an unknown user), while PLAIN and LOGIN work.
//
// Every mechanism goes through the same failed-login throttling (see FreeFailures), per IP
// address and per account, across IMAP, POP3 and submission.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Parameters of new hashes: 64 MiB, 2 passes, 2 lanes (RFC 9106 §4's second recommended option
// scaled to a mail server that verifies many logins).
const (
	argonMemoryKiB = 64 * 1024
	argonTime      = 2
	argonThreads   = 2
	argonKeyLen    = 32
	saltLen        = 16
)

// MinPasswordLength is the shortest password accepted for an account.
const MinPasswordLength = 8

// ErrMalformedHash is returned when a stored hash cannot be read.
var ErrMalformedHash = errors.New("malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id PHC string of password.
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemoryKiB, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches hash, in constant time.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, ErrMalformedHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, ErrMalformedHash
	}
	var memory, time uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &time, &threads); err != nil || threads == 0 || time == 0 {
		return false, ErrMalformedHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, ErrMalformedHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, ErrMalformedHash
	}
	got := argon2.IDKey([]byte(password), salt, time, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// CheckNewPassword refuses passwords too weak to set.
func CheckNewPassword(password string) error {
	if len([]rune(password)) < MinPasswordLength {
		return fmt.Errorf("password must be at least %d characters", MinPasswordLength)
	}
	return nil
}

// RandomPassword returns a new random password of 20 characters from an unambiguous alphabet.
func RandomPassword() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b), nil
}
