package store

import "sync"

// Hub is an in-process change feed, for backends to publish on after each commit. Subscribers
// get a channel with a buffer of one per account subscription: a pending event already says
// "re-read", so further events are merged into it instead of blocking the publisher.
type Hub struct {
	mu   sync.Mutex
	subs map[int64]map[chan Change]struct{}
}

// NewHub returns an empty hub.
func NewHub() *Hub {
	return &Hub{subs: map[int64]map[chan Change]struct{}{}}
}

// Subscribe returns a channel of the changes to accountID and a function to unsubscribe.
func (h *Hub) Subscribe(accountID int64) (<-chan Change, func()) {
	ch := make(chan Change, 1)
	h.mu.Lock()
	if h.subs[accountID] == nil {
		h.subs[accountID] = map[chan Change]struct{}{}
	}
	h.subs[accountID][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			delete(h.subs[accountID], ch)
			if len(h.subs[accountID]) == 0 {
				delete(h.subs, accountID)
			}
			h.mu.Unlock()
		})
	}
}

// Publish sends c to every subscriber of its account without blocking.
func (h *Hub) Publish(c Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[c.AccountID] {
		select {
		case ch <- c:
		default: // an event is pending already: the subscriber will re-read everything
		}
	}
}
