package config

import (
	"fmt"
	"strings"
)

// FilterSpam configures the built-in spam classifier ([filter.spam], internal/filter/spam).
type FilterSpam struct {
	// Run the classifier: it decides, per recipient account, between INBOX and Junk.
	// Default: true.
	Enabled bool `toml:"enabled"`
	// Score from which a message goes to the account's Junk mailbox, in points (the Bayes
	// probability gives -12 to +12, other signals a few each). Default: 5.
	JunkThreshold float64 `toml:"junk_threshold"`
	// Score from which a message is refused with 554 5.7.1 (when every recipient's score
	// reaches it); 0 = never refuse. Default: 0.
	RejectThreshold float64 `toml:"reject_threshold"`
	// DNS block list zones (RFC 5782) of client addresses whose listing adds 3 points (unlike
	// filter.dnsbl, which refuses). Default: [].
	DNSBL []string `toml:"dnsbl"`
	// URI block list zones whose listing of a domain linked from the body adds 3 points, e.g.
	// "multi.surbl.org". Default: [].
	URIBL []string `toml:"uribl"`
	// Time between two rounds of learning from users' moves into and out of Junk, in seconds.
	// Default: 30.
	TrainIntervalSeconds int `toml:"train_interval_seconds"`
}

// DefaultFilterSpam is the [filter.spam] section's defaults.
func DefaultFilterSpam() FilterSpam {
	return FilterSpam{Enabled: true, JunkThreshold: 5, DNSBL: []string{}, URIBL: []string{}, TrainIntervalSeconds: 30}
}

func (s FilterSpam) validate() error {
	if s.JunkThreshold <= 0 {
		return fmt.Errorf("key filter.spam.junk_threshold: must be greater than 0, got %v", s.JunkThreshold)
	}
	if s.RejectThreshold != 0 && s.RejectThreshold <= s.JunkThreshold {
		return fmt.Errorf("key filter.spam.reject_threshold: must be 0 (never) or above junk_threshold %v, got %v", s.JunkThreshold, s.RejectThreshold)
	}
	for _, z := range append(append([]string{}, s.DNSBL...), s.URIBL...) {
		if z == "" || strings.ContainsAny(z, " /:@") {
			return fmt.Errorf("key filter.spam.dnsbl or filter.spam.uribl: %q is not a domain name", z)
		}
	}
	if s.TrainIntervalSeconds <= 0 {
		return fmt.Errorf("key filter.spam.train_interval_seconds: must be greater than 0, got %d", s.TrainIntervalSeconds)
	}
	return nil
}
