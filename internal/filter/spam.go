package filter

import (
	"context"
	"io"
	"net/netip"

	"posthorn/internal/filter/spam"
)

// Spam is the SpamClassifier of internal/filter/spam: its Score becomes Junk (Score.Spam) or
// Reject (Score.Reject, when the reject threshold is enabled), per account.
type Spam struct {
	Classifier *spam.Classifier
}

// Classify implements SpamClassifier: the message is tokenised once for all the accounts, from
// in.Parsed when the filter parsed it.
func (s Spam) Classify(ctx context.Context, accounts []int64, r io.ReaderAt, size int64, in SpamInput) ([]SpamResult, []error) {
	signals := spam.Signals{MailFrom: in.Envelope.From, Recipients: in.Recipients}
	if addr, ok := netip.AddrFromSlice(in.Envelope.IP); ok {
		signals.ClientIP = addr.Unmap()
	}
	if in.Auth != nil {
		signals.SPF, signals.DKIM, signals.DMARC = in.Auth.SPF, in.Auth.DKIM, in.Auth.DMARC
	}
	var scores []spam.Score
	var errs []error
	if in.Parsed != nil {
		scores, errs = s.Classifier.ClassifyParsed(ctx, accounts, r, in.Parsed, signals)
	} else {
		scores, errs = s.Classifier.ClassifyAccounts(ctx, accounts, r, size, signals)
	}
	results := make([]SpamResult, len(scores))
	for i, score := range scores {
		if errs[i] == nil {
			results[i] = spamResult(score)
		}
	}
	return results, errs
}

// spamResult is the SpamResult of a Score.
func spamResult(score spam.Score) SpamResult {
	res := SpamResult{Action: Accept, Score: score.Value, Reason: "spam-score"}
	switch {
	case score.Reject:
		res.Action = Reject
	case score.Spam:
		res.Action = Junk
	}
	// Allow and block lists decide on their own; name them so the log says why.
	if len(score.Reasons) == 1 && (score.Reasons[0].Name == "block_list" || score.Reasons[0].Name == "allow_list") {
		res.Reason = "spam-" + score.Reasons[0].Name
	}
	return res
}
