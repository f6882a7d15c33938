package config

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"posthorn/internal/address"
)

// Retention configures how long posthorn keeps mail and records before the daily retention
// job (internal/retention) removes them. Every period is in days, counted back from the run;
// 0 keeps forever. A message's age is its internal date (when it arrived, or the date an
// APPEND or import gave it). Accounts under legal hold (posthorn user hold) keep everything.
type Retention struct {
	// Messages of mailboxes with the special use \Junk, \Trash, \Sent, \Archive (RFC 6154),
	// in days; 0 = no rule of their own (all_days applies). Default: 0.
	JunkDays    int `toml:"junk_days"`
	TrashDays   int `toml:"trash_days"`
	SentDays    int `toml:"sent_days"`
	ArchiveDays int `toml:"archive_days"`
	// Messages of every mailbox (INBOX and folders included) without a rule of its own, in
	// days; 0 = kept forever. Default: 0.
	AllDays int `toml:"all_days"`
	// Per-domain rules of the mailboxes, [retention.domains."example.org"]: a key set there
	// wins over the one above for the domain's accounts, a key left out follows it.
	// Default: {}.
	Domains map[string]RetentionDomain `toml:"domains"`
	// The stored mail log (the message trace's events), in days; 0 = kept forever. Default: 0.
	MailLogDays int `toml:"mail_log_days"`
	// Campaign tracking events (opens and clicks, with their user agents and addresses), in
	// days; 0 = kept forever. Default: 0.
	TrackingDays int `toml:"tracking_days"`
	// Login history: the sources accounts logged in from and the web UI's recent logins, in
	// days; 0 = kept forever. Default: 0.
	LoginHistoryDays int `toml:"login_history_days"`
	// Time of day the job runs, "HH:MM" in UTC, once a day. Default: "04:00".
	RunAt string `toml:"run_at"`
}

// RetentionDomain is the mailbox rules of one domain; a nil field follows [retention].
type RetentionDomain struct {
	JunkDays    *int `toml:"junk_days"`
	TrashDays   *int `toml:"trash_days"`
	SentDays    *int `toml:"sent_days"`
	ArchiveDays *int `toml:"archive_days"`
	AllDays     *int `toml:"all_days"`
}

// MaxRetentionDays bounds every retention period: 100 years.
const MaxRetentionDays = 36500

// DefaultRetention is the [retention] section's defaults: everything kept forever.
func DefaultRetention() Retention {
	return Retention{Domains: map[string]RetentionDomain{}, RunAt: "04:00"}
}

// MailboxDays is how long the accounts of domain keep the messages of a mailbox with
// specialUse ("" for none, or an RFC 6154 attribute such as `\Junk`), in days; 0 is forever.
func (r Retention) MailboxDays(domain, specialUse string) int {
	d := r.Domains[strings.ToLower(domain)]
	pick := func(own *int, def int) int {
		if own != nil {
			return *own
		}
		return def
	}
	var days int
	switch specialUse {
	case `\Junk`:
		days = pick(d.JunkDays, r.JunkDays)
	case `\Trash`:
		days = pick(d.TrashDays, r.TrashDays)
	case `\Sent`:
		days = pick(d.SentDays, r.SentDays)
	case `\Archive`:
		days = pick(d.ArchiveDays, r.ArchiveDays)
	}
	if days == 0 {
		days = pick(d.AllDays, r.AllDays)
	}
	return days
}

// HasRules reports whether any period is set (not 0): without one, retention removes nothing.
func (r Retention) HasRules() bool {
	for _, d := range []int{r.JunkDays, r.TrashDays, r.SentDays, r.ArchiveDays, r.AllDays,
		r.MailLogDays, r.TrackingDays, r.LoginHistoryDays} {
		if d > 0 {
			return true
		}
	}
	for _, o := range r.Domains {
		for _, d := range []*int{o.JunkDays, o.TrashDays, o.SentDays, o.ArchiveDays, o.AllDays} {
			if d != nil && *d > 0 {
				return true
			}
		}
	}
	return false
}

// RunAtOffset is RunAt as the time since midnight UTC (validated at load).
func (r Retention) RunAtOffset() time.Duration {
	t, err := time.Parse("15:04", r.RunAt)
	if err != nil {
		return 0
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

func (r Retention) validate() error {
	days := []struct {
		key   string
		value int
	}{
		{"retention.junk_days", r.JunkDays},
		{"retention.trash_days", r.TrashDays},
		{"retention.sent_days", r.SentDays},
		{"retention.archive_days", r.ArchiveDays},
		{"retention.all_days", r.AllDays},
		{"retention.mail_log_days", r.MailLogDays},
		{"retention.tracking_days", r.TrackingDays},
		{"retention.login_history_days", r.LoginHistoryDays},
	}
	names := make([]string, 0, len(r.Domains))
	for name := range r.Domains {
		names = append(names, name)
	}
	slices.Sort(names) // so the error names the same key every time
	for _, name := range names {
		key := fmt.Sprintf("retention.domains.%q", name)
		d, err := address.ParseDomain(name)
		if err != nil {
			return fmt.Errorf("key %s: %q is not a domain: %v", key, name, err)
		}
		if d != name {
			return fmt.Errorf("key %s: write the domain as %q", key, d)
		}
		o := r.Domains[name]
		for _, f := range []struct {
			key   string
			value *int
		}{
			{"junk_days", o.JunkDays}, {"trash_days", o.TrashDays}, {"sent_days", o.SentDays},
			{"archive_days", o.ArchiveDays}, {"all_days", o.AllDays},
		} {
			if f.value != nil {
				days = append(days, struct {
					key   string
					value int
				}{key + "." + f.key, *f.value})
			}
		}
	}
	for _, d := range days {
		if d.value < 0 || d.value > MaxRetentionDays {
			return fmt.Errorf("key %s: must be 0 (keep forever) or a number of days up to %d, got %d",
				d.key, MaxRetentionDays, d.value)
		}
	}
	if _, err := time.Parse("15:04", r.RunAt); err != nil || len(r.RunAt) != 5 {
		return fmt.Errorf("key retention.run_at: %q is not a time of day HH:MM (UTC), such as \"04:00\"", r.RunAt)
	}
	return nil
}
