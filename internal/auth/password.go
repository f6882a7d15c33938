// Package auth checks credentials for every protocol: password hashing, app passwords, SASL
// mechanisms and login throttling.
//
// Passwords are stored as argon2id hashes (RFC 9106) in the PHC string format
// "$argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash>", so the parameters travel with each hash and
// can be raised later without invalidating stored passwords.
//
// App passwords (AddAppPassword) are generated passwords an account may have several of, each
// with a name. They are random (over 110 bits), so they are stored as a keyed fast hash,
// "$hmac-sha256$" and HMAC-SHA-256 under a server secret made once in the database (shared by
// the server and the CLI), plus SCRAM keys. Login finds one by its keyed hash (one index
// lookup), so a login costs the same work whatever the account has: a wrong one is exactly one
// argon2id (of the account's password, or of a dummy hash for an unknown user, an unknown
// domain, a name that is no address or a malformed stored hash) plus one HMAC. App passwords
// stored as argon2id before keyed hashes existed still work: they are tried, one argon2id each,
// only after the keyed lookup and the password failed, and the one that matches is rewritten in
// the keyed form. Until each has been used once, a wrong login on such an account costs one
// argon2id more per legacy app password, which shows in its timing; replacing them (posthorn
// user app-password) ends that.
//
// Verified passwords are remembered in memory for a while ([auth] cache_seconds, default
// DefaultCacheTTL), like Dovecot's auth cache: see credCache. A hit costs two HMACs and the
// account's row, read again to check that the hash that verified the password is still the
// account's; failures are never remembered, and throttling applies first.
//
// At most as many argon2id hashes as the machine has cores (at least two) run at once, each with
// its 64 MiB work area; further logins wait their turn. When hashing has been idle for a moment,
// the memory is given back to the system (debug.FreeOSMemory), so the process shrinks back to
// its resting size after a burst of logins.
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
// Throttling, the same for every mechanism and protocol (IMAP, POP3, submission). Two counts
// of failures, each lasting Window from its first failure:
//
//   - per source: an IPv4 address, or an IPv6 /64; every failure from it counts, whatever
//     the account.
//   - per account: failures against the account (or the name, for an unknown user) from
//     sources it does not know. A known source is one the account has logged in from
//     successfully within KnownSourceAge; the store keeps the KnownSourcesKept most recent
//     per account (store.LoginStore, also the account's login history).
//
// An attempt from a known source looks at its source count only; from an unknown source, at
// both. With n failures in the counts it looks at, it waits 2^(n-FreeFailures) × BaseDelay
// first (nothing below FreeFailures), at most MaxDelay; it is refused outright (ErrThrottled)
// when the source has HardLimit failures or, for an unknown source, the account has
// AccountHardLimit. An attempt takes its place in the counts (as a failure) before its password
// is checked, and a success gives it back: so parallel guesses count against each other, and an
// attacker gets HardLimit guesses per source and Window however many connections it opens. A
// success clears nothing else, neither the source's earlier failures (one right password must
// not unlock guessing at other accounts) nor the account's (the owner logging in must not
// restore a stranger's budget). A SCRAM exchange takes its place at its first message and gives
// it back only for a matching proof: an abandoned exchange counts as a failure.
//
// So failures from strangers never throttle the owner's known sources. A stranger guessing from
// one address is refused after HardLimit guesses; the owner at a fresh address meanwhile waits
// up to MaxDelay per attempt, and is refused only once strangers from several sources have
// failed AccountHardLimit times within Window.
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
