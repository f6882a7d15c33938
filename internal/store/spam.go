package store

import (
	"context"
	"errors"
	"time"
)

// SpamCounts are how many spam and ham messages a model was trained with, or, for one token,
// how many of them held it.
type SpamCounts struct {
	Spam, Ham int64
}

// SpamTraining sets the class of one message in a model: its tokens are learnt as spam
// (Spam) or ham, in the account's model and in the global one. When the model already knows
// the message (same AccountID and BlobID) as the other class, that learning is undone first;
// as the same class, nothing changes. An empty BlobID trains without remembering the message
// (the admin's corpus training), and Forget with a BlobID undoes what was learnt of it.
type SpamTraining struct {
	AccountID int64    // 0: the global model only
	BlobID    string   // the message body's id, "" for an unrecorded training
	Spam      bool     // the class to learn
	Forget    bool     // unlearn the message's recorded class instead of learning one
	Tokens    []uint64 // distinct token hashes
}

// SpamModel is the storage of the Bayes models: the global model and one per account.
type SpamModel interface {
	// SpamTotals returns how many messages the global model and the account's model (zero for
	// accountID 0) were trained with.
	SpamTotals(ctx context.Context, accountID int64) (global, account SpamCounts, err error)
	// SpamTokens returns the counts of the given tokens in the global model and in the
	// account's; tokens never seen are absent from the maps.
	SpamTokens(ctx context.Context, accountID int64, tokens []uint64) (global, account map[uint64]SpamCounts, err error)
	// TrainSpam applies a batch of trainings in one transaction.
	TrainSpam(ctx context.Context, batch []SpamTraining) error
}

// SpamListEntry is one entry of an account's allow or block list: a lower-cased address
// ("someone@example.org") or domain ("@example.org").
type SpamListEntry struct {
	Entry string
	Block bool // block list; false: allow list
}

// SpamLists are the per-account allow and block lists.
type SpamLists interface {
	// AddSpamListEntry adds entry to a list; ErrExists if it is there, ErrNotFound for an
	// unknown account.
	AddSpamListEntry(ctx context.Context, accountID int64, e SpamListEntry) error
	// RemoveSpamListEntry removes entry from a list; ErrNotFound if it is not there.
	RemoveSpamListEntry(ctx context.Context, accountID int64, e SpamListEntry) error
	// SpamListEntries returns an account's entries, allow list first, each sorted.
	SpamListEntries(ctx context.Context, accountID int64) ([]SpamListEntry, error)
	// MatchSpamList returns the entries of an account's lists that equal one of keys.
	MatchSpamList(ctx context.Context, accountID int64, keys []string) ([]SpamListEntry, error)
}

// Correspondent is an address an account received mail from or sent mail to.
type Correspondent struct {
	AccountID int64
	Address   string // lower-cased
	At        time.Time
}

// MaxCorrespondents bounds the correspondents kept per account; the least recently seen go.
const MaxCorrespondents = 5000

// Correspondents remember who each account corresponds with, for the spam filter's
// first-time-sender signal.
type Correspondents interface {
	// KnownCorrespondent reports whether the account corresponds with address, and whether
	// it has any correspondent at all (without any, every sender is new and the signal says
	// nothing).
	KnownCorrespondent(ctx context.Context, accountID int64, address string) (known, any bool, err error)
	// NoteCorrespondents records addresses in one transaction (again: a newer time).
	NoteCorrespondents(ctx context.Context, cs []Correspondent) error
}

// JunkMove is a message a user moved into (ToJunk) or out of Junk (see RecordJunkMove).
type JunkMove struct {
	ID        int64
	AccountID int64
	BlobID    string
	ToJunk    bool
	At        time.Time
}

// ErrJunkMovesConsumed is returned by JunkMoveFeed.ConsumeJunkMoves when some of the moves
// were consumed by another trainer since they were read.
var ErrJunkMovesConsumed = errors.New("junk moves consumed meanwhile")

// JunkMoveFeed hands the recorded junk moves to the spam trainer, exactly once each.
type JunkMoveFeed interface {
	// PendingJunkMoves returns up to limit moves not yet consumed, oldest first.
	PendingJunkMoves(ctx context.Context, limit int) ([]JunkMove, error)
	// ConsumeJunkMoves applies batch and marks moves (as PendingJunkMoves returned them) as
	// consumed, in one transaction; it fails, changing nothing, if another trainer consumed
	// some of them meanwhile.
	ConsumeJunkMoves(ctx context.Context, moves []JunkMove, batch []SpamTraining) error
}

// SpamStep is one change a training makes to a model: Delta (+1 learn, -1 unlearn) to its
// spam or its ham counts.
type SpamStep struct {
	Spam  bool
	Delta int64
}

// Steps returns what applying tr changes, given the class the model has recorded for its
// message: 1 spam, -1 ham, 0 none.
func (tr SpamTraining) Steps(recorded int) []SpamStep {
	want := -1
	if tr.Spam {
		want = 1
	}
	switch {
	case tr.Forget && recorded != 0:
		return []SpamStep{{Spam: recorded > 0, Delta: -1}}
	case tr.Forget, recorded == want:
		return nil
	case recorded != 0:
		return []SpamStep{{Spam: recorded > 0, Delta: -1}, {Spam: tr.Spam, Delta: 1}}
	}
	return []SpamStep{{Spam: tr.Spam, Delta: 1}}
}

// SpamDelta is what a batch of trainings changes in one model: its totals and the counts of
// its tokens.
type SpamDelta struct {
	Totals SpamCounts
	Tokens map[uint64]SpamCounts
}

func (d *SpamDelta) add(st SpamStep, tokens []uint64) {
	var c SpamCounts
	if st.Spam {
		c.Spam = st.Delta
	} else {
		c.Ham = st.Delta
	}
	d.Totals.Spam += c.Spam
	d.Totals.Ham += c.Ham
	for _, t := range tokens {
		v := d.Tokens[t]
		v.Spam += c.Spam
		v.Ham += c.Ham
		d.Tokens[t] = v
	}
}

// SpamDeltas sums what a batch of trainings changes, per model (by account id, 0 the global
// one), so that a backend writes each touched row once. Only an account's messages with a
// BlobID are recorded: for each, recorded returns the class the account's model has stored
// (1 spam, -1 ham, 0 none) unless an earlier training of the batch set it, and record stores
// the training's outcome (its class, or none for Forget), in batch order.
func SpamDeltas(batch []SpamTraining, recorded func(SpamTraining) (int, error), record func(SpamTraining) error) (map[int64]*SpamDelta, error) {
	deltas := map[int64]*SpamDelta{}
	delta := func(account int64) *SpamDelta {
		d := deltas[account]
		if d == nil {
			d = &SpamDelta{Tokens: map[uint64]SpamCounts{}}
			deltas[account] = d
		}
		return d
	}
	type message struct {
		account int64
		blob    string
	}
	classes := map[message]int{} // classes set earlier in this batch
	for _, tr := range batch {
		kept := tr.AccountID != 0 && tr.BlobID != ""
		key := message{tr.AccountID, tr.BlobID}
		class := 0
		if kept {
			var ok bool
			if class, ok = classes[key]; !ok {
				var err error
				if class, err = recorded(tr); err != nil {
					return nil, err
				}
			}
		}
		for _, st := range tr.Steps(class) {
			delta(0).add(st, tr.Tokens)
			if tr.AccountID != 0 {
				delta(tr.AccountID).add(st, tr.Tokens)
			}
		}
		if !kept {
			continue
		}
		switch {
		case tr.Forget:
			classes[key] = 0
		case tr.Spam:
			classes[key] = 1
		default:
			classes[key] = -1
		}
		if err := record(tr); err != nil {
			return nil, err
		}
	}
	return deltas, nil
}
