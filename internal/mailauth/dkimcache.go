package mailauth

// Parsed DKIM signing keys, kept between messages.
//
// The store holds a private key as PKCS #8 DER; decoding an RSA-2048 key (and the checks
// crypto/rsa makes of it) costs a good part of what signing with it does, so a sender that
// signs every message decodes each key once and keeps the crypto.Signer in a DKIMKeyCache.
// An entry is found by the key's domain, selector, algorithm and a SHA-256 of its DER: a
// rotated key (a new selector) or a key replaced in the store under the same selector is
// decoded at its first use and never mistaken for the old one, without the cache having to be
// told of the change. Replacing a key drops the entry of the old DER of that selector; the
// cache holds at most DKIMKeyCache.Max entries and forgets one when full.

import (
	"crypto"
	"crypto/sha256"
	"io"
	"sync"

	"posthorn/internal/store"
)

// DefaultDKIMKeyCacheMax is the number of keys a DKIMKeyCache keeps when Max is 0: two keys
// (RSA and Ed25519) for each of 64 sending domains.
const DefaultDKIMKeyCacheMax = 128

// DKIMKeyCache keeps decoded DKIM private keys. The zero value is ready to use; it must not be
// copied after first use. It is safe for concurrent use.
type DKIMKeyCache struct {
	// Max is the most keys kept. Default: DefaultDKIMKeyCacheMax.
	Max int
	// Parse decodes a stored key; nil: PKCS #8 (as GenerateDKIMKeys stores them). Tests count
	// decodes through it.
	Parse func(store.DKIMKey) (crypto.Signer, error)

	mu   sync.Mutex
	keys map[dkimKeyID]crypto.Signer
}

// dkimKeyID names one stored key: where it signs and what it is.
type dkimKeyID struct {
	domain, selector, algorithm string
	der                         [sha256.Size]byte
}

// Signer returns the decoded private key of k, decoding it only if it is not kept yet.
func (c *DKIMKeyCache) Signer(k store.DKIMKey) (crypto.Signer, error) {
	id := dkimKeyID{domain: k.Domain, selector: k.Selector, algorithm: k.Algorithm, der: sha256.Sum256(k.PrivateKey)}
	c.mu.Lock()
	signer, ok := c.keys[id]
	c.mu.Unlock()
	if ok {
		return signer, nil
	}
	parse := c.Parse
	if parse == nil {
		parse = dkimSigner
	}
	// Decoded outside the lock: two first uses at once decode twice, and keep one.
	signer, err := parse(k)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.put(id, signer)
	return signer, nil
}

// put keeps signer under id, dropping the old key of the same selector and, when the cache is
// full, one other entry. c.mu is held.
func (c *DKIMKeyCache) put(id dkimKeyID, signer crypto.Signer) {
	if c.keys == nil {
		c.keys = map[dkimKeyID]crypto.Signer{}
	}
	for old := range c.keys {
		if old.domain == id.domain && old.selector == id.selector && old.algorithm == id.algorithm && old.der != id.der {
			delete(c.keys, old)
		}
	}
	limit := c.Max
	if limit <= 0 {
		limit = DefaultDKIMKeyCacheMax
	}
	for old := range c.keys {
		if len(c.keys) < limit {
			break
		}
		delete(c.keys, old)
	}
	c.keys[id] = signer
}

// Len returns the number of keys kept.
func (c *DKIMKeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// Sign is SignDKIM with the keys decoded through the cache.
func (c *DKIMKeyCache) Sign(r io.Reader, keys []store.DKIMKey) ([]string, error) {
	return signDKIM(r, keys, c.Signer)
}
