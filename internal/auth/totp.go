package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// TOTP, the time-based one-time passwords of authenticator apps (RFC 6238), over HOTP
// (RFC 4226) with the parameters every app supports: HMAC-SHA-1, a 30-second step, 6 digits.
// A secret is 20 random bytes (RFC 4226 §4 R6: at least 128 bits, 160 recommended), shown to
// the user as unpadded base32 (the key URI format of Google Authenticator, which other apps
// follow). A code is accepted in the step of the time given and in the steps either side of it
// (RFC 6238 §5.2: one step back for transmission delay, and one forward for a clock ahead).
const (
	// TOTPStep is the time step X of RFC 6238 §4.1.
	TOTPStep = 30 * time.Second
	// TOTPDigits is the length of a code (RFC 4226 §5.3 Digit).
	TOTPDigits = 6
	// TOTPSkew is how many steps either side of the current one a code is accepted in.
	TOTPSkew = 1
	// totpSecretBytes is the length of a generated secret.
	totpSecretBytes = 20
)

// totpEncoding is the base32 of secrets in key URIs: RFC 4648 alphabet, no padding.
var totpEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// HOTP returns the HOTP value of key at counter with digits digits (RFC 4226 §5.3): the
// dynamic truncation of HMAC-SHA-1(key, counter) modulo 10^digits, zero-padded.
func HOTP(key []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	// RFC 4226 §5.3: the low 4 bits of the last byte give the offset of a 31-bit value.
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}

// TOTPCounter is the step number T of t (RFC 6238 §4.2, T0 = 0).
func TOTPCounter(t time.Time) uint64 {
	return uint64(t.Unix()) / uint64(TOTPStep/time.Second)
}

// TOTP returns the 6-digit code of key at t (RFC 6238 §4.2).
func TOTP(key []byte, t time.Time) string {
	return HOTP(key, TOTPCounter(t), TOTPDigits)
}

// CheckTOTP reports whether code is key's code at t or within TOTPSkew steps of it, and the
// step it matched (so a caller can refuse a code used twice, RFC 6238 §5.2). The comparison
// takes the same time whichever step matches.
func CheckTOTP(key []byte, code string, t time.Time) (step uint64, ok bool) {
	code = strings.TrimSpace(code)
	if len(code) != TOTPDigits {
		return 0, false
	}
	now := TOTPCounter(t)
	for d := -TOTPSkew; d <= TOTPSkew; d++ {
		c := now + uint64(int64(d))
		if subtle.ConstantTimeCompare([]byte(HOTP(key, c, TOTPDigits)), []byte(code)) == 1 {
			step, ok = c, true
		}
	}
	return step, ok
}

// NewTOTPSecret returns a new random secret in base32, as it is stored and shown.
func NewTOTPSecret() (string, error) {
	b := make([]byte, totpSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("totp secret: %w", err)
	}
	return totpEncoding.EncodeToString(b), nil
}

// DecodeTOTPSecret reads a base32 secret (case and spaces ignored, padding optional).
func DecodeTOTPSecret(secret string) ([]byte, error) {
	s := strings.ToUpper(strings.ReplaceAll(secret, " ", ""))
	key, err := totpEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("totp secret is not base32")
	}
	return key, nil
}

// TOTPKeyURI is the otpauth:// URI of a secret that authenticator apps import (the "Key Uri
// Format" of Google Authenticator): otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER
// with the algorithm, digits and period spelt out.
func TOTPKeyURI(issuer, account, secret string) string {
	label := url.PathEscape(issuer) + ":" + url.PathEscape(account)
	q := url.Values{}
	q.Set("secret", secret)
	q.Set("issuer", issuer)
	q.Set("algorithm", "SHA1")
	q.Set("digits", fmt.Sprint(TOTPDigits))
	q.Set("period", fmt.Sprint(int(TOTPStep/time.Second)))
	return "otpauth://totp/" + label + "?" + q.Encode()
}
