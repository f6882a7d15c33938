package spam

import (
	"context"
	"sync"

	"posthorn/internal/store"
)

// MemoryModel is a store.SpamModel in memory, with the same semantics as the SQL one: for
// tests, and for training and measuring on a corpus without a database.
type MemoryModel struct {
	mu     sync.Mutex
	models map[int64]*memModel // by account; 0 is the global model
	known  map[memKey]bool     // the recorded class of (account, blob): true for spam
}

type memKey struct {
	account int64
	blob    string
}

type memModel struct {
	totals store.SpamCounts
	tokens map[uint64]store.SpamCounts
}

var _ store.SpamModel = (*MemoryModel)(nil)

// NewMemoryModel returns an empty model.
func NewMemoryModel() *MemoryModel {
	return &MemoryModel{models: map[int64]*memModel{}, known: map[memKey]bool{}}
}

func (m *MemoryModel) model(account int64) *memModel {
	mm := m.models[account]
	if mm == nil {
		mm = &memModel{tokens: map[uint64]store.SpamCounts{}}
		m.models[account] = mm
	}
	return mm
}

// SpamTotals implements store.SpamModel.
func (m *MemoryModel) SpamTotals(_ context.Context, accountID int64) (global, account store.SpamCounts, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	global = m.model(0).totals
	if accountID != 0 {
		account = m.model(accountID).totals
	}
	return global, account, nil
}

// SpamTokens implements store.SpamModel.
func (m *MemoryModel) SpamTokens(_ context.Context, accountID int64, tokens []uint64) (global, account map[uint64]store.SpamCounts, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	pick := func(mm *memModel) map[uint64]store.SpamCounts {
		out := map[uint64]store.SpamCounts{}
		for _, t := range tokens {
			if v, ok := mm.tokens[t]; ok {
				out[t] = v
			}
		}
		return out
	}
	global = pick(m.model(0))
	if accountID != 0 {
		account = pick(m.model(accountID))
	}
	return global, account, nil
}

// TrainSpam implements store.SpamModel.
func (m *MemoryModel) TrainSpam(_ context.Context, batch []store.SpamTraining) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, tr := range batch {
		for _, step := range tr.Steps(m.recorded(tr)) {
			m.apply(tr, step)
		}
		m.record(tr)
	}
	return nil
}

// recorded returns the class the model knows tr's message as: 1 spam, -1 ham, 0 none.
func (m *MemoryModel) recorded(tr store.SpamTraining) int {
	if tr.AccountID == 0 || tr.BlobID == "" {
		return 0
	}
	spam, ok := m.known[memKey{tr.AccountID, tr.BlobID}]
	switch {
	case !ok:
		return 0
	case spam:
		return 1
	}
	return -1
}

func (m *MemoryModel) record(tr store.SpamTraining) {
	if tr.AccountID == 0 || tr.BlobID == "" {
		return
	}
	k := memKey{tr.AccountID, tr.BlobID}
	if tr.Forget {
		delete(m.known, k)
	} else {
		m.known[k] = tr.Spam
	}
}

func (m *MemoryModel) apply(tr store.SpamTraining, st store.SpamStep) {
	accounts := []int64{0}
	if tr.AccountID != 0 {
		accounts = append(accounts, tr.AccountID)
	}
	for _, a := range accounts {
		mm := m.model(a)
		mm.totals = addCounts(mm.totals, st)
		for _, t := range tr.Tokens {
			v := addCounts(mm.tokens[t], st)
			if v == (store.SpamCounts{}) {
				delete(mm.tokens, t)
			} else {
				mm.tokens[t] = v
			}
		}
	}
}

// addCounts adds st to c, never below zero.
func addCounts(c store.SpamCounts, st store.SpamStep) store.SpamCounts {
	if st.Spam {
		c.Spam = max(0, c.Spam+st.Delta)
	} else {
		c.Ham = max(0, c.Ham+st.Delta)
	}
	return c
}
