// Package auth holds the mechanisms of authentication, free of any store: password hashing,
// the stored form of app passwords, SCRAM key derivation, SASLprep, the SASL server state
// machines and the framing of a SASL exchange over a line-based protocol. What remembers
// things (accounts, throttling counts, the credential cache) is package credentials, which
// builds on this one.
//
// Passwords are stored as argon2id hashes (RFC 9106) in the PHC string format
// "$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>", so the parameters travel with each hash and
// can be raised later without invalidating stored passwords.
//
// App passwords are random (RandomPassword: over 110 bits), so their stored form is a keyed
// fast hash, KeyedHash: "$hmac-sha256$" and the base64 of HMAC-SHA-256 under a server secret.
// A login can then find one by its hash instead of trying each. Older app passwords stored as
// argon2id are told apart by IsKeyed.
//
// SASL: PLAIN (RFC 4616, NewPlainServer), LOGIN (NewLoginServer) and SCRAM-SHA-256 (RFC 5802,
// RFC 7677, NewSCRAMServer), without channel binding: no -PLUS variant, a "p=" gs2 flag fails
// with ErrChannelBinding. The servers are go-sasl's sasl.Server; they check nothing
// themselves but call the functions they are given: CheckLogin with the username and password
// for PLAIN and LOGIN, SCRAMLookup for the salt and keys of a username and SCRAMFinish with the
// outcome of the proof for SCRAM. SCRAM needs the stored keys of RFC 5802 §3 (StoredKey,
// ServerKey, DeriveSCRAM) under a salt and iteration count. One salt serves all credentials of
// an account because the server names the salt before it knows which credential the client
// holds; the proof is then checked against each. A user without keys is shown FakeSCRAMSalt,
// stable per name, so the salt tells nothing of which accounts exist.
//
// LineExchange runs any of these servers over IMAP AUTHENTICATE or POP3 AUTH: "+ base64"
// challenges, base64 answers, "*" to cancel.
//
// TOTP (totp.go) is the second factor of the web UI's logins: RFC 6238 time-based codes over
// RFC 4226 HOTP, SHA-1, 30-second steps, 6 digits, one step of skew either way; secrets are
// generated here and shown as base32 and as the otpauth:// key URI authenticator apps import.
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
