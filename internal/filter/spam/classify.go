package spam

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"posthorn/internal/store"
)

// BayesWeight is the most points the Bayes probability gives, toward spam or toward ham.
const BayesWeight = 12.0

// Explanation is what a Score was made of, for people (posthorn spam explain).
type Explanation struct {
	Tokens   int              // distinct tokens of the message
	Clues    []Clue           // the tokens that decided the Bayes probability, most decided first
	Global   store.SpamCounts // messages the global model trained
	Account  store.SpamCounts // messages the account's model trained
	Features Features         // what the heuristics saw
}

// Explain scores a message as Classify does and also returns what the score was made of.
func (c *Classifier) Explain(ctx context.Context, accountID int64, msg io.ReaderAt, size int64, signals Signals) (Score, *Explanation, error) {
	return c.classify(ctx, accountID, msg, size, signals)
}

func (c *Classifier) classify(ctx context.Context, accountID int64, msg io.ReaderAt, size int64, signals Signals) (Score, *Explanation, error) {
	toks, err := Tokenize(msg, size)
	if err != nil {
		return Score{}, nil, fmt.Errorf("tokenize message: %w", err)
	}
	return c.score(ctx, accountID, toks, signals, c.sharedLookups(ctx, toks, signals))
}

// sharedLookups returns what depends on the message alone, not on the account: the DNS
// blocklists of its client and its domains, looked up once, by the first account that needs
// them, for every account the message is scored for.
func (c *Classifier) sharedLookups(ctx context.Context, toks *Tokens, signals Signals) func() []Reason {
	return sync.OnceValue(func() []Reason { return c.blocklists(ctx, signals, toks.Features.Domains) })
}

// score scores the tokens of a message for one account; toks is only read, so the accounts
// of one message share it.
func (c *Classifier) score(ctx context.Context, accountID int64, toks *Tokens, signals Signals, blocklists func() []Reason) (Score, *Explanation, error) {
	ex := &Explanation{Tokens: len(toks.List), Features: toks.Features}
	sc := Score{Bayes: 0.5}
	if accountID != 0 && c.lists != nil {
		r, ok, err := c.listed(ctx, accountID, toks.Features.From, signals)
		if err != nil {
			return Score{}, nil, err
		}
		if ok {
			sc.Reasons = []Reason{r}
			c.finish(&sc)
			return sc, ex, nil
		}
	}
	if err := c.bayes(ctx, accountID, toks, &sc, ex); err != nil {
		return Score{}, nil, err
	}
	sc.Reasons = append(sc.Reasons, heuristics(toks.Features, signals)...)
	sc.Reasons = append(sc.Reasons, authReasons(signals)...)
	sc.Reasons = append(sc.Reasons, blocklists()...)
	if accountID != 0 && c.seen != nil && toks.Features.From != "" {
		known, anyKnown, err := c.seen.KnownCorrespondent(ctx, accountID, toks.Features.From)
		if err != nil {
			return Score{}, nil, fmt.Errorf("correspondents: %w", err)
		}
		if anyKnown && !known {
			sc.Reasons = append(sc.Reasons, Reason{Name: "first_time_sender", Points: firstTimeSenderPoints, Detail: toks.Features.From})
		}
	}
	c.finish(&sc)
	return sc, ex, nil
}

// bayes adds the Bayes probability of the message's tokens.
func (c *Classifier) bayes(ctx context.Context, accountID int64, toks *Tokens, sc *Score, ex *Explanation) error {
	gTotal, aTotal, err := c.model.SpamTotals(ctx, accountID)
	if err != nil {
		return fmt.Errorf("spam model totals: %w", err)
	}
	ex.Global, ex.Account = gTotal, aTotal
	cnt := newCounts(gTotal, aTotal)
	if !cnt.trained() {
		return nil
	}
	lookupAccount := accountID
	if !cnt.useAccount {
		lookupAccount = 0 // the account's counts would not be used: read the global ones only
	}
	if cnt.g, cnt.a, err = c.model.SpamTokens(ctx, lookupAccount, toks.Hashes()); err != nil {
		return fmt.Errorf("spam model tokens: %w", err)
	}
	ex.Clues = cnt.clues(toks.List)
	sc.Bayes = combineClues(ex.Clues)
	sc.Reasons = append(sc.Reasons, Reason{
		Name:   "bayes",
		Points: BayesWeight * (2*sc.Bayes - 1),
		Detail: fmt.Sprintf("p=%.4f from %d tokens", sc.Bayes, len(ex.Clues)),
	})
	return nil
}

// listed checks the account's allow and block lists: an address or a domain (or a parent
// domain) of the From address for both, of the envelope sender for the block list.
func (c *Classifier) listed(ctx context.Context, accountID int64, from string, signals Signals) (Reason, bool, error) {
	fromKeys := listKeys(from)
	senderKeys := listKeys(strings.ToLower(signals.MailFrom))
	if len(fromKeys)+len(senderKeys) == 0 {
		return Reason{}, false, nil
	}
	entries, err := c.lists.MatchSpamList(ctx, accountID, append(fromKeys, senderKeys...))
	if err != nil {
		return Reason{}, false, fmt.Errorf("spam lists: %w", err)
	}
	for _, e := range entries {
		if e.Block {
			return Reason{Name: "block_list", Points: BlockScore, Detail: e.Entry}, true, nil
		}
	}
	for _, e := range entries {
		if !e.Block && contains(fromKeys, e.Entry) {
			if signals.DMARC == "fail" {
				c.logger.Info("allow list entry not honoured: DMARC failed", "account", accountID, "entry", e.Entry)
				return Reason{}, false, nil
			}
			return Reason{Name: "allow_list", Points: AllowScore, Detail: e.Entry}, true, nil
		}
	}
	return Reason{}, false, nil
}

// listKeys returns what an address matches in a list: itself, "@" its domain, and "@" each
// parent domain of it.
func listKeys(addr string) []string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return nil
	}
	keys := []string{addr}
	for d := addr[at+1:]; ; {
		keys = append(keys, "@"+d)
		i := strings.IndexByte(d, '.')
		if i < 0 || !strings.Contains(d[i+1:], ".") {
			return keys
		}
		d = d[i+1:]
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
