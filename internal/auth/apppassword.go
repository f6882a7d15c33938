package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
)

// keyedPrefix starts the stored form of an app password: "$hmac-sha256$" and the base64 of
// HMAC-SHA-256(server secret, password).
const keyedPrefix = "$hmac-sha256$"

// KeyedHash is the stored form of an app password under key, the server secret of app
// passwords (see the package doc).
func KeyedHash(key []byte, password string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(password))
	return keyedPrefix + b64.EncodeToString(m.Sum(nil))
}

// IsKeyed tells the keyed form of an app password from an argon2id one (written before keyed
// hashes existed).
func IsKeyed(hash string) bool { return strings.HasPrefix(hash, keyedPrefix) }
