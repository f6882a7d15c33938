package spam

import (
	"context"
	"sync"
	"time"

	"posthorn/internal/store"
)

// Defaults of CachedModel.
const (
	// DefaultCacheTokens bounds the tokens a CachedModel keeps (about 10 MiB).
	DefaultCacheTokens = 200_000
	// DefaultCacheTTL is how long cached counts live: training by another process (posthorn
	// spam train beside the server) is seen after at most this long.
	DefaultCacheTTL = time.Minute
)

// CachedModel keeps the global model's token counts, absent tokens included, in memory in
// front of a store: a message's lookups then mostly skip SQL, where each token costs a B-tree
// search. Only lookups of the global model alone (accountID 0, or an account whose own model
// is not in use) are cached; the counts change only by training, after which the cache is
// emptied, as it is when it gets older than TTL or before new counts would take it beyond
// MaxTokens.
type CachedModel struct {
	store.SpamModel
	MaxTokens int           // default DefaultCacheTokens
	TTL       time.Duration // default DefaultCacheTTL

	mu     sync.Mutex
	tokens map[uint64]cachedCounts
	filled time.Time // when the cache was last emptied
}

type cachedCounts struct {
	counts store.SpamCounts
	known  bool // the model holds the token
}

// NewCachedModel caches m.
func NewCachedModel(m store.SpamModel) *CachedModel {
	return &CachedModel{SpamModel: m}
}

// SpamTokens implements store.SpamModel.
func (c *CachedModel) SpamTokens(ctx context.Context, accountID int64, tokens []uint64) (global, account map[uint64]store.SpamCounts, err error) {
	if accountID != 0 {
		return c.SpamModel.SpamTokens(ctx, accountID, tokens)
	}
	global = make(map[uint64]store.SpamCounts, len(tokens))
	var misses []uint64
	c.mu.Lock()
	c.expire()
	for _, t := range tokens {
		v, ok := c.tokens[t]
		switch {
		case !ok:
			misses = append(misses, t)
		case v.known:
			global[t] = v.counts
		}
	}
	c.mu.Unlock()
	if len(misses) == 0 {
		return global, nil, nil
	}
	got, _, err := c.SpamModel.SpamTokens(ctx, 0, misses)
	if err != nil {
		return nil, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.tokens)+len(misses) > c.maxTokens() {
		c.reset()
	}
	for _, t := range misses {
		v, ok := got[t]
		c.tokens[t] = cachedCounts{counts: v, known: ok}
		if ok {
			global[t] = v
		}
	}
	return global, nil, nil
}

// TrainSpam implements store.SpamModel and empties the cache.
func (c *CachedModel) TrainSpam(ctx context.Context, batch []store.SpamTraining) error {
	err := c.SpamModel.TrainSpam(ctx, batch)
	c.Changed()
	return err
}

// expire empties an old cache; c.mu is held.
func (c *CachedModel) expire() {
	ttl := c.TTL
	if ttl <= 0 {
		ttl = DefaultCacheTTL
	}
	if c.tokens == nil || time.Since(c.filled) > ttl {
		c.reset()
	}
}

// Changed empties the cache: the model was trained other than through c (the Trainer's
// junk moves go to the store directly).
func (c *CachedModel) Changed() {
	c.mu.Lock()
	c.reset()
	c.mu.Unlock()
}

// reset empties the cache; c.mu is held.
func (c *CachedModel) reset() {
	c.tokens = map[uint64]cachedCounts{}
	c.filled = time.Now()
}

func (c *CachedModel) maxTokens() int {
	if c.MaxTokens > 0 {
		return c.MaxTokens
	}
	return DefaultCacheTokens
}
