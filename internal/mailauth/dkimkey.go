package mailauth

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"posthorn/internal/dns"
)

// publicKey is a DKIM key record (RFC 6376 §3.6.1), for DKIM and ARC signatures.
type publicKey struct {
	rsa     *rsa.PublicKey
	ed25519 ed25519.PublicKey
	hashes  []string // h=, nil for any
	// services is s= (nil for any); strict is t=s: the AUID domain must equal d= exactly
	// (RFC 6376 §3.6.1).
	services []string
	strict   bool
}

// errKeyTemp marks a key that could not be fetched for now.
var errKeyTemp = errors.New("key lookup failed temporarily")

// lookupKey fetches and parses the key at selector._domainkey.domain.
func (v *Verifier) lookupKey(ctx context.Context, selector, domain string) (*publicKey, error) {
	name := selector + "._domainkey." + domain
	txts, err := v.Resolver.LookupTXT(ctx, name)
	if dns.IsTemporary(err) {
		return nil, fmt.Errorf("%s: %w", name, errKeyTemp)
	}
	if err != nil || len(txts) == 0 {
		return nil, fmt.Errorf("no key at %s", name)
	}
	if len(txts) > 1 {
		return nil, fmt.Errorf("several key records at %s", name) // RFC 6376 §3.6.2.2
	}
	return v.parsedKeys.parse(txts[0])
}

// maxParsedKeys bounds the key records a Verifier keeps parsed.
const maxParsedKeys = 1000

// parsedKeys keeps key records parsed, by their text, so that the mail of one sender does
// not decode the same RSA key at every message. A key is immutable once parsed, and shared.
// When maxParsedKeys records are kept, the cache starts again empty.
type parsedKeys struct {
	mu   sync.Mutex
	keys map[string]parsedKey
}

type parsedKey struct {
	key *publicKey
	err error
}

func (c *parsedKeys) parse(record string) (*publicKey, error) {
	c.mu.Lock()
	k, ok := c.keys[record]
	c.mu.Unlock()
	if ok {
		return k.key, k.err
	}
	key, err := parseKey(record)
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= maxParsedKeys {
		c.keys = map[string]parsedKey{}
	}
	c.keys[record] = parsedKey{key, err}
	c.mu.Unlock()
	return key, err
}

func parseKey(s string) (*publicKey, error) {
	tags, _, err := parseTags(s)
	if err != nil {
		return nil, fmt.Errorf("key record: %w", err)
	}
	if v, ok := tags["v"]; ok && v != "DKIM1" {
		return nil, errors.New("key record: not DKIM1")
	}
	p, ok := tags["p"]
	if !ok {
		return nil, errors.New("key syntax error: missing public key data")
	}
	if p = stripFWS(p); p == "" {
		return nil, errors.New("key revoked") // RFC 6376 §3.6.1
	}
	b, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, fmt.Errorf("key record: %w", err)
	}
	k := &publicKey{}
	if h, ok := tags["h"]; ok {
		for _, a := range strings.Split(h, ":") {
			k.hashes = append(k.hashes, strings.ToLower(strings.TrimSpace(a)))
		}
	}
	if v, ok := tags["s"]; ok {
		for _, x := range strings.Split(v, ":") {
			k.services = append(k.services, strings.ToLower(strings.TrimSpace(x)))
		}
	}
	for _, f := range strings.Split(tags["t"], ":") {
		if strings.TrimSpace(f) == "s" {
			k.strict = true
		}
	}
	switch strings.ToLower(tags["k"]) {
	case "", "rsa":
		pub, err := x509.ParsePKIXPublicKey(b)
		if err != nil {
			if pub, err = x509.ParsePKCS1PublicKey(b); err != nil {
				return nil, fmt.Errorf("key record: %w", err)
			}
		}
		r, ok := pub.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("key record: not an RSA key")
		}
		if r.Size()*8 < 1024 {
			return nil, fmt.Errorf("key is too short: want 1024 bits, has %d bits", r.Size()*8) // RFC 8301 §3.2
		}
		k.rsa = r
	case "ed25519":
		if len(b) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("invalid Ed25519 public key size: %d bytes", len(b))
		}
		k.ed25519 = ed25519.PublicKey(b)
	default:
		return nil, fmt.Errorf("key record: unknown key type %q", tags["k"])
	}
	return k, nil
}

// verify checks sig over the SHA-256 hash of the signed data for algorithm a (rsa-sha256 or
// ed25519-sha256).
func (k *publicKey) verify(a string, hashed, sig []byte) error {
	if k.hashes != nil && !containsFold(k.hashes, "sha256") {
		return errors.New("key does not allow sha256")
	}
	switch a {
	case "rsa-sha256":
		if k.rsa == nil {
			return errors.New("key is not RSA")
		}
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, hashed, sig)
	case "ed25519-sha256":
		if k.ed25519 == nil || !ed25519.Verify(k.ed25519, hashed, sig) {
			return errors.New("invalid Ed25519 signature")
		}
		return nil
	}
	return fmt.Errorf("unsupported algorithm %q", a)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
