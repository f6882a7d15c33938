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
	// its counts weigh in.
	MinAccountTraining = 20
	// AccountWeight is how much an account's own counts weigh against the global ones (which
	// include them once already).
	AccountWeight = 2
)

// Clue is one token's probability, as used in a Bayes decision.
type Clue struct {
	Token string  // the token's text, "" when only its hash is known
	Hash  uint64  // the stored hash
	Prob  float64 // Robinson's f: near 1 spam, near 0 ham
	Spam  int64   // messages of each class that held it, the counts used (weighted)
	Ham   int64
}

// counts are the effective counts of a decision: the global ones plus the weighted account's.
type counts struct {
	totals store.SpamCounts
	tokens map[uint64]store.SpamCounts
}

// combine merges the global counts and, when it has trained enough, the account's.
func combine(gTotal, aTotal store.SpamCounts, g, a map[uint64]store.SpamCounts) counts {
	c := counts{totals: gTotal, tokens: g}
	if aTotal.Spam < MinAccountTraining || aTotal.Ham < MinAccountTraining || len(a) == 0 {
		return c
	}
	c.totals.Spam += AccountWeight * aTotal.Spam
	c.totals.Ham += AccountWeight * aTotal.Ham
	merged := make(map[uint64]store.SpamCounts, len(g)+len(a))
	for h, v := range g {
		merged[h] = v
	}
	for h, v := range a {
		m := merged[h]
		m.Spam += AccountWeight * v.Spam
		m.Ham += AccountWeight * v.Ham
		merged[h] = m
	}
	c.tokens = merged
	return c
}

// trained reports whether there is enough training for a decision.
func (c counts) trained() bool {
	return c.totals.Spam >= MinTraining && c.totals.Ham >= MinTraining
}

// prob is Robinson's f(w) for a token held by s spam and h ham messages.
func (c counts) prob(v store.SpamCounts) float64 {
	nspam, nham := float64(c.totals.Spam), float64(c.totals.Ham)
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
		v, ok := c.tokens[t.hash]
		if !ok {
			continue
		}
		p := c.prob(v)
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
//
// SpamBayes and bogofilter combine with Fisher's chi-square method instead (chiSquare below).
// On the labelled corpus it did a little worse: mailing-list spam, whose list headers are
// strongly ham and whose body strongly spam, lands at 0.5 + a hair, next to the hard ham, so
// the cut between them is at a knife's edge; the summed ratio keeps them apart. The test
// TestCombiners measures both.
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

// chiSquare is Fisher's method over the clues' probabilities, as SpamBayes' chi2_spamprob:
// H = 1 - chi2Q(-2 Σ ln p), S = 1 - chi2Q(-2 Σ ln (1-p)), each with 2n degrees of freedom,
// and the result (1 + S - H) / 2. With no clues it is 0.5.
func chiSquare(clues []Clue) float64 {
	if len(clues) == 0 {
		return 0.5
	}
	var lnS, lnH float64
	for _, c := range clues {
		lnS += math.Log(1 - c.Prob)
		lnH += math.Log(c.Prob)
	}
	n := 2 * len(clues)
	s := 1 - chi2Q(-2*lnS, n)
	h := 1 - chi2Q(-2*lnH, n)
	return (1 + s - h) / 2
}

// chi2Q is the probability that a chi-square variable with v (even) degrees of freedom is at
// least x2.
func chi2Q(x2 float64, v int) float64 {
	m := x2 / 2
	sum := math.Exp(-m)
	term := sum
	for i := 1; i < v/2; i++ {
		term *= m / float64(i)
		sum += term
	}
	return math.Min(sum, 1)
}
