// Package retention applies the retention rules of [retention] (config.Retention): messages
// older than their mailbox's period are removed, and so are old mail log events, campaign
// tracking events (opens and clicks) and login history. The server runs it once a day
// (Daily, started by internal/app); `posthorn retention run [--dry-run]` runs it at once.
//
// How a run goes (Service.Run):
//
//   - The accounts under legal hold (store.RetentionStore.LegalHolds, set with `posthorn user
//     hold`) are read first and skipped entirely: none of their messages, none of their login
//     history, and no mail log event that names them (as sender, recipient or owner of the
//     mailbox a message went to) is removed. A hold set while a run is under way applies from
//     the next account the run reaches.
//   - For every other account and each of its mailboxes, the period is
//     config.Retention.MailboxDays of the account's domain and the mailbox's special use (a
//     domain's own rule wins, all_days covers mailboxes without a rule). The messages whose
//     internal date is older than that (store.RetentionStore.MessagesBefore) are removed
//     through the MailStore, RemoveMessages, in batches: the removal is recorded as an
//     expunge with a new MODSEQ and published on the change feed, so the IMAP sessions of the
//     process that runs it see it at once (EXPUNGE, or VANISHED with QRESYNC) as if another
//     client had expunged (those of another process, a server while the CLI runs, when they
//     next select the mailbox, as for any change the CLI makes), and the bodies
//     left without reference are removed from the body store afterwards, as IMAP EXPUNGE and
//     POP3 do.
//   - Then the old records go (store.RetentionStore.PruneRecords), in batches too.
//   - A run that removes (not a dry run) counts what it removed in the metrics
//     (posthorn_retention_removed_total by kind, the time of the last run) and writes one
//     entry, retention.run, in the audit log with the counts; the server's runs are the
//     system's, a CLI run is its user's.
//
// A dry run reads the same and removes nothing, records nothing: its Report says what would go.
// Periods are whole days of 24 hours counted back from the run's time, which comes from the
// Service's clock, so tests set it.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/bodystore"
	"posthorn/internal/config"
	"posthorn/internal/store"
)

// removeBatch is how many messages one RemoveMessages call removes.
const removeBatch = 500

// Service applies the retention rules to one store. Store, Retention, Bodies and Rules are
// required.
type Service struct {
	Store     store.Store
	Retention store.RetentionStore
	Bodies    bodystore.Bodies
	Rules     config.Retention
	Logger    *slog.Logger
	// Metrics counts what runs removed; nil counts nothing.
	Metrics *Metrics
	// Now is the clock of the cut-offs; nil is time.Now.
	Now func() time.Time
}

// Report is what one run removed, or would remove in a dry run.
type Report struct {
	At     time.Time
	DryRun bool
	// Messages counts the messages removed; Mailboxes says from where, one entry per mailbox
	// that lost any, in account and mailbox order.
	Messages  int64
	Mailboxes []MailboxReport
	// HeldAccounts is how many accounts the run skipped for their legal hold.
	HeldAccounts int
	store.Pruned
}

// MailboxReport is what one run removed from one mailbox.
type MailboxReport struct {
	Account  string
	Mailbox  string
	Days     int // the mailbox's period
	Messages int64
}

// Kinds are the kinds of what a run removes, as the metrics and the audit log name them.
var Kinds = []string{"messages", "mail_events", "tracking_events", "login_sources", "web_logins"}

// Counts returns the report's counts by kind (Kinds).
func (r Report) Counts() map[string]int64 {
	return map[string]int64{"messages": r.Messages, "mail_events": r.MailEvents,
		"tracking_events": r.TrackingEvents, "login_sources": r.LoginSources, "web_logins": r.WebLogins}
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Run applies the rules once, at the Service's current time; dryRun removes nothing. An error
// with one account does not stop the others: the run goes on, and returns its report with
// every error joined.
func (s *Service) Run(ctx context.Context, dryRun bool) (Report, error) {
	now := s.now()
	rep := Report{At: now, DryRun: dryRun}
	holds, err := s.Retention.LegalHolds(ctx)
	if err != nil {
		return rep, fmt.Errorf("retention: %w", err)
	}
	held := make(map[int64]bool, len(holds))
	for _, h := range holds {
		held[h.AccountID] = true
	}
	rep.HeldAccounts = len(held)
	var errs []error
	if err := s.expire(ctx, now, held, &rep); err != nil {
		errs = append(errs, err)
	}
	prune := store.Prune{
		MailEventsBefore: cutoff(now, s.Rules.MailLogDays),
		TrackingBefore:   cutoff(now, s.Rules.TrackingDays),
		LoginsBefore:     cutoff(now, s.Rules.LoginHistoryDays),
		DryRun:           dryRun,
	}
	pruned, err := s.Retention.PruneRecords(ctx, prune)
	rep.Pruned = pruned
	if err != nil {
		errs = append(errs, fmt.Errorf("retention: %w", err))
	}
	if !dryRun {
		s.Metrics.ran(rep, len(errs) == 0)
		if err := s.record(ctx, rep, len(errs)); err != nil {
			errs = append(errs, err)
		}
	}
	s.logger().Info("retention run", "dry_run", dryRun, "messages", rep.Messages, "mail_events", rep.MailEvents,
		"tracking_events", rep.TrackingEvents, "login_sources", rep.LoginSources, "web_logins", rep.WebLogins,
		"held_accounts", rep.HeldAccounts, "errors", len(errs))
	return rep, errors.Join(errs...)
}

// cutoff is the time days before now, zero (nothing) for 0 days.
func cutoff(now time.Time, days int) time.Time {
	if days <= 0 {
		return time.Time{}
	}
	return now.Add(-time.Duration(days) * 24 * time.Hour)
}

// expire removes the old messages of every account not held.
func (s *Service) expire(ctx context.Context, now time.Time, held map[int64]bool, rep *Report) error {
	accounts, err := s.Store.ListAccounts(ctx, "")
	if err != nil {
		return fmt.Errorf("retention: %w", err)
	}
	var errs []error
	for _, acc := range accounts {
		if held[acc.ID] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		if err := s.expireAccount(ctx, now, acc, rep); err != nil {
			s.logger().Warn("retention of an account failed", "account", acc.Address, "err", err)
			errs = append(errs, fmt.Errorf("retention of %s: %w", acc.Address, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) expireAccount(ctx context.Context, now time.Time, acc store.Account, rep *Report) error {
	_, domain, _ := strings.Cut(acc.Address, "@")
	mailboxes, err := s.Store.ListMailboxes(ctx, acc.ID)
	if err != nil {
		return err
	}
	for _, mb := range mailboxes {
		days := s.Rules.MailboxDays(domain, mb.SpecialUse)
		if days == 0 {
			continue
		}
		uids, err := s.Retention.MessagesBefore(ctx, mb.ID, cutoff(now, days))
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since it was listed
		} else if err != nil {
			return fmt.Errorf("mailbox %s: %w", mb.Name, err)
		}
		n := int64(len(uids))
		if !rep.DryRun {
			if n, err = s.remove(ctx, mb, uids); err != nil {
				return fmt.Errorf("mailbox %s: %w", mb.Name, err)
			}
		}
		if n > 0 {
			rep.Messages += n
			rep.Mailboxes = append(rep.Mailboxes, MailboxReport{Account: acc.Address, Mailbox: mb.Name, Days: days, Messages: n})
		}
	}
	return nil
}

// remove removes the messages uids of mb in batches, and the bodies that lost their last
// reference, and returns how many messages went.
func (s *Service) remove(ctx context.Context, mb store.Mailbox, uids []uint32) (int64, error) {
	var n int64
	for len(uids) > 0 {
		batch := uids[:min(len(uids), removeBatch)]
		uids = uids[len(batch):]
		removed, unreferenced, err := s.Store.RemoveMessages(ctx, mb.ID, batch)
		if errors.Is(err, store.ErrNotFound) {
			return n, nil // the mailbox was deleted meanwhile
		} else if err != nil {
			return n, err
		}
		n += int64(len(removed))
		for _, id := range unreferenced {
			// A failure only leaves a file behind, which the orphan sweep finds later.
			if err := s.Bodies.Remove(ctx, id); err != nil {
				s.logger().Warn("remove message body", "blob", id, "err", err)
			}
		}
	}
	return n, nil
}

// record writes the run's entry in the audit log.
func (s *Service) record(ctx context.Context, rep Report, failures int) error {
	log, err := audit.For(s.Store)
	if err != nil {
		return err
	}
	details := audit.Details{"at": rep.At.UTC().Format(time.RFC3339), "held_accounts": rep.HeldAccounts}
	for k, v := range rep.Counts() {
		details[k] = v
	}
	if failures > 0 {
		details["errors"] = failures
	}
	if err := log.Record(ctx, "retention.run", "", details); err != nil {
		return fmt.Errorf("retention run done, but not recorded in the audit log: %w", err)
	}
	return nil
}
