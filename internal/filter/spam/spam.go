package spam

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"sort"
	"sync"

	"posthorn/internal/dns"
	"posthorn/internal/message"
	"posthorn/internal/store"
)

// Default thresholds and short-circuit scores.
const (
	// DefaultJunkThreshold is the Value from which a message goes to Junk.
	DefaultJunkThreshold = 5.0
	// AllowScore is the Value of a message from an allow-listed sender.
	AllowScore = -100.0
	// BlockScore is the Value of a message from a block-listed sender.
	BlockScore = 100.0
)

// Signals is what the caller knows about a message besides its content: the SMTP envelope and
// the authentication results of package mailauth, as the strings of RFC 8601 ("pass", "fail",
// "softfail", "neutral", "none", "temperror", "permerror"; "" when not checked).
type Signals struct {
	ClientIP   netip.Addr // the SMTP client; the zero Addr skips DNSBL lookups
	MailFrom   string     // envelope sender (RFC 5321 MAIL FROM), "" for the null sender
	Recipients int        // envelope recipients of this transaction
	SPF        string     // SPF result for MailFrom (RFC 7208 §2.6)
	DKIM       string     // the best DKIM result: "pass" if any signature passed (RFC 6376)
	DMARC      string     // DMARC result for the From domain (RFC 7489)
}

// Reason is one named contribution to a Score.
type Reason struct {
	Name   string  // e.g. "bayes", "spf_fail", "dnsbl:zen.example.org", "block_list"
	Points float64 // what it added to Score.Value (negative: toward ham)
	Detail string  // for people: "p=0.998", the listed address, the list entry
}

// Score is the classifier's judgement of one message for one account.
type Score struct {
	Value   float64  // sum of Reasons' points
	Spam    bool     // Value >= the Junk threshold: deliver to Junk
	Reject  bool     // reject is enabled and Value >= its threshold
	Bayes   float64  // the Bayes probability, 0 (ham) to 1 (spam); 0.5 when unsure or untrained
	Reasons []Reason // largest contribution (by absolute value) first
}

// String renders the score for a log line or a header: "7.3 bayes=4.9 missing_date=1.0".
func (s Score) String() string {
	out := fmt.Sprintf("%.1f", s.Value)
	for _, r := range s.Reasons {
		out += fmt.Sprintf(" %s=%.1f", r.Name, r.Points)
	}
	return out
}

// Config is how a Classifier scores. The zero value of a field means its default.
type Config struct {
	// JunkThreshold: Value from which a message goes to Junk. Default: DefaultJunkThreshold.
	JunkThreshold float64
	// RejectThreshold: Value from which a message is refused; 0 disables rejecting.
	RejectThreshold float64
	// DNSBLZones are DNS blocklists of client IP addresses (e.g. "zen.spamhaus.org").
	DNSBLZones []string
	// URIBLZones are DNS blocklists of domains, checked for the URLs of the body.
	URIBLZones []string
}

// Classifier scores messages. Its methods are safe for concurrent use.
type Classifier struct {
	model    store.SpamModel
	lists    store.SpamLists      // nil: no allow/block lists
	seen     store.Correspondents // nil: no first-time-sender signal
	resolver dns.Resolver         // nil: no DNSBL/URIBL lookups
	cfg      Config
	logger   *slog.Logger

	mu      sync.Mutex
	pending []store.Correspondent // to be written by FlushCorrespondents
}

// New returns a classifier over model. lists, seen and resolver may be nil to leave out the
// allow/block lists, the first-time-sender signal and the DNS blocklists.
func New(model store.SpamModel, lists store.SpamLists, seen store.Correspondents, resolver dns.Resolver, cfg Config, logger *slog.Logger) *Classifier {
	if cfg.JunkThreshold == 0 {
		cfg.JunkThreshold = DefaultJunkThreshold
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Classifier{model: model, lists: lists, seen: seen, resolver: resolver, cfg: cfg, logger: logger}
}

// Classify scores the message of size octets in msg for the account (0: no account, the global
// model only, no lists). Its error is a failure to read the message or the model; a DNS
// failure only leaves that signal out (and logs it). The sender of a message it does not find
// spam becomes one of the account's correspondents (written by FlushCorrespondents).
func (c *Classifier) Classify(ctx context.Context, accountID int64, msg io.ReaderAt, size int64, signals Signals) (Score, error) {
	scores, errs := c.ClassifyAccounts(ctx, []int64{accountID}, msg, size, signals)
	return scores[0], errs[0]
}

// ClassifyAccounts scores one message for several accounts, as Classify does for each:
// scores[i] and errs[i] are accounts[i]'s. The message is read and tokenised once, and its DNS
// blocklists are looked up once, for all of them; the accounts are scored in parallel.
func (c *Classifier) ClassifyAccounts(ctx context.Context, accounts []int64, msg io.ReaderAt, size int64, signals Signals) ([]Score, []error) {
	parsed, err := message.Parse(msg, size)
	if err != nil {
		return c.failAll(accounts, err)
	}
	return c.ClassifyParsed(ctx, accounts, msg, parsed, signals)
}

// ClassifyParsed is ClassifyAccounts of a message already parsed (message.Parse's result for
// msg), as the inbound filter parses it once for all its checks.
func (c *Classifier) ClassifyParsed(ctx context.Context, accounts []int64, msg io.ReaderAt, parsed *message.Parsed, signals Signals) ([]Score, []error) {
	scores := make([]Score, len(accounts))
	errs := make([]error, len(accounts))
	toks, err := TokenizeParsed(msg, parsed)
	if err != nil {
		return c.failAll(accounts, err)
	}
	blocklists := c.sharedLookups(ctx, toks, signals)
	var wg sync.WaitGroup
	for i, acc := range accounts {
		wg.Go(func() {
			sc, ex, err := c.score(ctx, acc, toks, signals, blocklists)
			if err == nil && !sc.Spam {
				c.noteCorrespondent(acc, ex.Features.From)
			}
			scores[i], errs[i] = sc, err
		})
	}
	wg.Wait()
	return scores, errs
}

// failAll is the result of a message that could not be tokenised, for each account.
func (c *Classifier) failAll(accounts []int64, err error) ([]Score, []error) {
	errs := make([]error, len(accounts))
	for i := range errs {
		errs[i] = fmt.Errorf("tokenize message: %w", err)
	}
	return make([]Score, len(accounts)), errs
}

// finish sorts the reasons, sums them and applies the thresholds.
func (c *Classifier) finish(sc *Score) {
	sort.SliceStable(sc.Reasons, func(i, j int) bool {
		return abs(sc.Reasons[i].Points) > abs(sc.Reasons[j].Points)
	})
	sc.Value = 0
	for _, r := range sc.Reasons {
		sc.Value += r.Points
	}
	sc.Spam = sc.Value >= c.cfg.JunkThreshold
	sc.Reject = c.cfg.RejectThreshold > 0 && sc.Value >= c.cfg.RejectThreshold
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// Main returns the name of the reason that decided the score: "allow_list", "block_list",
// "gtube", or "spam-score" for a sum of contributions.
func (s Score) Main() string {
	if len(s.Reasons) > 0 {
		switch n := s.Reasons[0].Name; n {
		case "allow_list", "block_list", "gtube":
			return n
		}
	}
	return "spam-score"
}

// modelChanged tells a cached model that the store's counts changed behind it.
func (c *Classifier) modelChanged() {
	if cm, ok := c.model.(*CachedModel); ok {
		cm.Changed()
	}
}
