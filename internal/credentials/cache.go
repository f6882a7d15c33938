package credentials

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"sync"
	"time"
)

// DefaultCacheTTL is how long a verified password is remembered by default (config [auth]
// cache_seconds).
const DefaultCacheTTL = 5 * time.Minute

// maxCached bounds the entries of the credential cache.
const maxCached = 10_000

// credCache remembers passwords that verified, like Dovecot's auth cache, so that a client
// reconnecting does not pay argon2id again. An entry is keyed by HMAC-SHA-256 of the user name
// and password under a key made at random for this process (the password itself is never
// kept), and holds the account and the stored hash that verified it. A hit counts only while
// the account's row, read again for the login, still has that id and hash: a password changed
// or an account removed by any process (the CLI writes the same database) ends it at once.
// Failures are never remembered.
type credCache struct {
	ttl     time.Duration
	key     []byte
	mu      sync.Mutex
	entries map[[sha256.Size]byte]cached
}

type cached struct {
	accountID int64
	hash      string // the account's PasswordHash that verified the password
	expires   time.Time
}

func newCredCache(ttl time.Duration) *credCache {
	return &credCache{ttl: ttl, key: newSecret(), entries: map[[sha256.Size]byte]cached{}}
}

func (c *credCache) keyOf(user, password string) [sha256.Size]byte {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(strings.ToLower(user)))
	m.Write([]byte{0})
	m.Write([]byte(password))
	var k [sha256.Size]byte
	m.Sum(k[:0])
	return k
}

// hit reports whether user's password was verified within the TTL against the account's
// current id and hash; an entry that no longer matches is dropped.
func (c *credCache) hit(user, password string, accountID int64, hash string, now time.Time) bool {
	if c.ttl <= 0 {
		return false
	}
	k := c.keyOf(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok {
		return false
	}
	if now.After(e.expires) || e.accountID != accountID || e.hash != hash {
		delete(c.entries, k)
		return false
	}
	return true
}

// remember notes that password verified against hash of the account.
func (c *credCache) remember(user, password string, accountID int64, hash string, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	k := c.keyOf(user, password)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCached {
		for key, e := range c.entries {
			if now.After(e.expires) {
				delete(c.entries, key)
			}
		}
		for key := range c.entries {
			if len(c.entries) < maxCached {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = cached{accountID: accountID, hash: hash, expires: now.Add(c.ttl)}
}
