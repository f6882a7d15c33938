package admin

import (
	"context"
	"errors"
	"io"

	"posthorn/internal/audit"
	"posthorn/internal/filter/spam"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// spamStore is what the spam operations need of the store.
type spamStore interface {
	store.Store
	store.SpamModel
	store.SpamLists
	store.Correspondents
}

// spamAccount returns the store's spam models and the id of the account at addr; "" is the
// global model (0).
func (a *Admin) spamAccount(ctx context.Context, addr string) (spamStore, int64, error) {
	st, ok := a.Store.(spamStore)
	if !ok {
		return nil, 0, &operr.Error{Code: operr.Unsupported, Message: "this store keeps no spam models"}
	}
	if addr == "" {
		return st, 0, nil
	}
	acc, err := a.account(ctx, "account", addr)
	return st, acc.ID, err
}

// TrainSpam trains the global model, and the model of account unless it is "", with every
// message of the corpus at path (a directory or an mbox) as spam or ham, and returns how many
// messages it trained. A corpus without messages is spam.ErrEmptyCorpus; when training stops
// at an error, the count says how many messages before it were trained.
func (a *Admin) TrainSpam(ctx context.Context, account, path string, isSpam bool) (int, error) {
	st, id, err := a.spamAccount(ctx, account)
	if err != nil {
		return 0, err
	}
	n, err := spam.TrainCorpus(ctx, st, id, path, isSpam)
	if err != nil {
		return n, err
	}
	return n, a.record(ctx, "spam.train", account, audit.Details{"spam": isSpam, "messages": n})
}

// SpamTotals returns how many messages trained the global model and the model of account
// ("": none, zero counts).
func (a *Admin) SpamTotals(ctx context.Context, account string) (global, acc store.SpamCounts, err error) {
	st, id, err := a.spamAccount(ctx, account)
	if err != nil {
		return store.SpamCounts{}, store.SpamCounts{}, err
	}
	return st.SpamTotals(ctx, id)
}

// ExplainSpam scores a message of size octets for account ("": the global model only) as the
// MX would, with a.Spam and a.Resolver, and explains the score: its signals and the tokens
// that decided it.
func (a *Admin) ExplainSpam(ctx context.Context, account string, msg io.ReaderAt, size int64) (spam.Score, *spam.Explanation, error) {
	st, id, err := a.spamAccount(ctx, account)
	if err != nil {
		return spam.Score{}, nil, err
	}
	c := spam.New(st, st, st, a.Resolver, a.Spam, nil)
	return c.Explain(ctx, id, msg, size, spam.Signals{})
}

// AddSpamListEntry puts entry (an address, or "@domain" for a domain and its subdomains) on an
// account's block list (block) or allow list. An entry on either list already is operr.Exists,
// its message naming the list it is on.
func (a *Admin) AddSpamListEntry(ctx context.Context, account, entry string, block bool) error {
	st, id, en, err := a.spamListEntry(ctx, account, entry, block)
	if err != nil {
		return err
	}
	err = st.AddSpamListEntry(ctx, id, en)
	if errors.Is(err, store.ErrExists) {
		list := "allow"
		if entries, lerr := st.SpamListEntries(ctx, id); lerr == nil {
			for _, x := range entries {
				if x.Entry == en.Entry && x.Block {
					list = "block"
				}
			}
		}
		return operr.New(operr.Exists, "entry", en.Entry, err, "%s is already on the %s list", en.Entry, list)
	} else if err != nil {
		return err
	}
	return a.record(ctx, "spam_list.add", account, audit.Details{"entry": en.Entry, "list": listName(block)})
}

// RemoveSpamListEntry takes entry off an account's block list (block) or allow list.
func (a *Admin) RemoveSpamListEntry(ctx context.Context, account, entry string, block bool) error {
	st, id, en, err := a.spamListEntry(ctx, account, entry, block)
	if err != nil {
		return err
	}
	if err := st.RemoveSpamListEntry(ctx, id, en); errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "entry", en.Entry, err, "%s is not on the %s list", en.Entry, listName(block))
	} else if err != nil {
		return err
	}
	return a.record(ctx, "spam_list.remove", account, audit.Details{"entry": en.Entry, "list": listName(block)})
}

// SpamList returns the entries of an account's block list (block) or allow list, sorted.
func (a *Admin) SpamList(ctx context.Context, account string, block bool) ([]string, error) {
	st, id, err := a.spamAccount(ctx, account)
	if err != nil {
		return nil, err
	}
	entries, err := st.SpamListEntries(ctx, id)
	if err != nil {
		return nil, err
	}
	var list []string
	for _, en := range entries {
		if en.Block == block {
			list = append(list, en.Entry)
		}
	}
	return list, nil
}

// spamListEntry parses a list entry and finds the account whose list it is for.
func (a *Admin) spamListEntry(ctx context.Context, account, entry string, block bool) (spamStore, int64, store.SpamListEntry, error) {
	normalised, err := ParseAddressOrDomain("entry", entry)
	if err != nil {
		return nil, 0, store.SpamListEntry{}, err
	}
	st, id, err := a.spamAccount(ctx, account)
	return st, id, store.SpamListEntry{Entry: normalised, Block: block}, err
}

func listName(block bool) string {
	if block {
		return "block"
	}
	return "allow"
}
