package spam

import (
	"math"
	"sort"

	"posthorn/internal/store"
)

// Parameters of the Bayes model (see the package doc for how they were chosen).
const (
	// unknownStrength (Robinson's s) and unknownProb (x) shrink a token's probability toward
	// x in proportion to how little evidence there is for it.
	unknownStrength = 0.2
	unknownProb     = 0.5
	// maxClues is how many tokens, the most decided ones, are combined.
	maxClues = 150
	// minStrength is how far from 0.5 a token's probability must be to count: tokens between
	// 0.125 and 0.875 say too little and only blur the decision (bogofilter's min_dev).
	minStrength = 0.375
	// llrScale divides the clues' summed log-likelihood ratio before the logistic function
	// turns it into a probability.
	llrScale = 2
	// MinTraining is how many messages of each class a model needs before it says anything.
	MinTraining = 5
	// MinAccountTraining is how many messages of each class an account's model needs before
	// its counts decide the tokens it knows.
	MinAccountTraining = 20
)

// Clue is one token's probability, as used in a Bayes decision.
type Clue struct {
	Token string  // the token's text, "" when only its hash is known
	Hash  uint64  // the stored hash
	Prob  float64 // Robinson's f: near 1 spam, near 0 ham
	Spam  int64   // messages of each class that held it, in the model that decided
	Ham   int64
}

// counts are what a decision uses: the global model's, and the account's once it has trained
// enough. For a token the account's model holds, the account's own counts decide its
// probability; for every other token the global counts do. So an account's judgement of a
// kind of mail (a newsletter others read, a sender others hate) wins over everyone's as soon
// as the account trained it, and the global model fills in what the account never saw.
type counts struct {
	global, account store.SpamCounts // messages trained
	g, a            map[uint64]store.SpamCounts
	useAccount      bool
}

// newCounts starts a decision from the models' totals; the caller reads the token counts.
func newCounts(gTotal, aTotal store.SpamCounts) counts {
	return counts{
		global: gTotal, account: aTotal,
		useAccount: aTotal.Spam >= MinAccountTraining && aTotal.Ham >= MinAccountTraining,
	}
}

// trained reports whether there is enough training for a decision.
func (c counts) trained() bool {
	return c.global.Spam >= MinTraining && c.global.Ham >= MinTraining || c.useAccount
}

// lookup returns the counts that decide a token, with the totals they are out of.
func (c counts) lookup(h uint64) (v, totals store.SpamCounts, ok bool) {
	if c.useAccount {
		if v, ok := c.a[h]; ok {
			return v, c.account, true
		}
	}
	v, ok = c.g[h]
	return v, c.global, ok
}

// prob is Robinson's f(w) for a token held by v.Spam of totals.Spam spam and v.Ham of
// totals.Ham ham messages.
func prob(v, totals store.SpamCounts) float64 {
	nspam, nham := float64(max(totals.Spam, 1)), float64(max(totals.Ham, 1))
	s, h := math.Min(float64(v.Spam), nspam), math.Min(float64(v.Ham), nham)
	if s+h == 0 {
		return unknownProb
	}
	sr, hr := s/nspam, h/nham
	p := sr / (sr + hr)
	n := s + h
	return (unknownStrength*unknownProb + n*p) / (unknownStrength + n)
}

// clues returns the tokens that decide: those farthest from 0.5, at most maxClues.
func (c counts) clues(toks []token) []Clue {
	out := make([]Clue, 0, len(toks))
	for _, t := range toks {
		v, totals, ok := c.lookup(t.hash)
		if !ok {
			continue
		}
		p := prob(v, totals)
		if math.Abs(p-0.5) < minStrength {
			continue
		}
		out = append(out, Clue{Token: t.text, Hash: t.hash, Prob: p, Spam: v.Spam, Ham: v.Ham})
	}
	sort.Slice(out, func(i, j int) bool {
		di, dj := math.Abs(out[i].Prob-0.5), math.Abs(out[j].Prob-0.5)
		if di != dj {
			return di > dj
		}
		return out[i].Hash < out[j].Hash // a stable order, whatever the map gave
	})
	if len(out) > maxClues {
		out = out[:maxClues]
	}
	return out
}

// combineClues turns the clues into one spam probability: the logistic function of the sum
// of their log-likelihood ratios ln(f / (1-f)), divided by llrScale. With no clues it is 0.5.
// (Why not Fisher's chi-square method: see the package doc.)
func combineClues(clues []Clue) float64 {
	if len(clues) == 0 {
		return 0.5
	}
	var l float64
	for _, c := range clues {
		l += math.Log(c.Prob / (1 - c.Prob))
	}
	return 1 / (1 + math.Exp(-l/llrScale))
}
