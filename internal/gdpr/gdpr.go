// Package gdpr finds, exports and erases everything a posthorn server holds about one person
// (GDPR articles 15, 17 and 20): whether the address is an account, a subscriber of bulk mail,
// or only a correspondent in the mail log and the queue.
//
// Find gathers it, part by part (Part): an account's settings (quota, aliases pointing at it,
// send-as, limits, app password names and dates, never a hash or a secret), its mailboxes,
// its logins and web sessions; the mail log events naming the address as sender or recipient;
// the outbound queue's rows; the audience (subscriptions to every list, with attributes and
// consent records), the campaign send ledger and its tracking events; suppressions; the spam
// filter's and greylisting's rows; and the audit log entries naming the address. The rows
// outside an account come from the store's store.GDPRStore, the account's own from the usual
// store interfaces.
//
// Export writes it as one zip file: index.json (the address, what it is, and every part with
// its file and count), one JSON file per part, and one mbox file per mailbox (mboxrd: a
// "From " line before each message, and a ">" added to every line that starts with any number
// of ">" then "From ", RFC 4155 and the mboxrd convention; lines end in LF).
//
// Erase removes it: the account through the operation that removes accounts (so its
// message bodies go, admin.RemoveAccount), then in one store transaction what the store holds
// elsewhere (store.GDPRStore.ErasePersonalData: subscriber, ledger events, suppressions,
// queue rows and their bodies, aliases, grants, spam and greylist rows). What must be kept is
// pseudonymised instead: the mail log events and the campaign send ledger keep their rows with
// the keyed hash of the address (Pseudonym: HMAC-SHA256 under the server secret "gdpr-key",
// made on first use like every server secret), and the audit log entries naming the address
// get the same pseudonym (audit.Log.Pseudonymise). The erasure itself is recorded in the audit
// log under the pseudonym, with the counts of what went and never the address. Last, the
// store makes the deleted rows unrecoverable from its files (store.GDPRStore.PurgeFreed: for
// SQLite the full-text index merged, VACUUM, and the write-ahead log checkpointed and
// truncated).
//
// What erasure leaves: copies of a message in other local accounts' mailboxes (they are those
// people's mail), backups and pre-migration copies of the database taken before (Erasure
// names the latter), and the text mail log file when one is configured (log.mail_log), which
// belongs to the operator's log rotation.
package gdpr

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Bodies are the message bodies' files (blob.FS).
type Bodies interface {
	Open(id string) (*os.File, error)
	Remove(id string) error
}

// AccountRemover removes an account with its mailboxes, messages and the bodies only it
// referenced (admin.Admin.RemoveAccount).
type AccountRemover interface {
	RemoveAccount(ctx context.Context, address string) error
}

// Service exports and erases personal data. Set Store, Bodies and Accounts.
type Service struct {
	Store    store.Store
	Bodies   Bodies
	Accounts AccountRemover
	// Now is the clock of the export's time; nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// gdprStore returns the store's GDPRStore, or an error naming the backend.
func (s *Service) gdprStore() (store.GDPRStore, error) {
	g, ok := s.Store.(store.GDPRStore)
	if !ok {
		return nil, operr.New(operr.Unsupported, "", "", nil, "the store %T cannot find personal data", s.Store)
	}
	return g, nil
}

// SecretName is the server secret (store.LoginStore.ServerSecret) the pseudonyms are keyed with.
const SecretName = "gdpr-key"

// PseudonymDomain is the domain of every pseudonym (RFC 2606 reserves .invalid), so that a
// reader of the mail log or the audit log sees that an address was erased there, and the
// message trace still searches it as an address.
const PseudonymDomain = "erased.invalid"

// Pseudonym returns the keyed hash that replaces address where its rows stay: the hex
// HMAC-SHA256 of the lower-cased address under the server secret SecretName (64 digits, the
// longest local part RFC 5321 allows) at PseudonymDomain. The
// same address always gets the same pseudonym on one server, so the rows of one erased person
// stay linked, yet the address cannot be recovered from it without the secret.
func (s *Service) Pseudonym(ctx context.Context, address string) (string, error) {
	ls, ok := s.Store.(store.LoginStore)
	if !ok {
		return "", fmt.Errorf("the store %T keeps no server secret", s.Store)
	}
	want := make([]byte, 32)
	if _, err := rand.Read(want); err != nil {
		return "", err
	}
	key, err := ls.ServerSecret(ctx, SecretName, want)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	io.WriteString(m, strings.ToLower(address)) //nolint:errcheck // a hash never fails to write
	return hex.EncodeToString(m.Sum(nil)) + "@" + PseudonymDomain, nil
}

// Person is what the server holds about one address.
type Person struct {
	Address string
	// Account is the account at the address, nil when it is none; the fields after it are
	// that account's (empty otherwise).
	Account      *store.Account
	UsedBytes    int64
	Mailboxes    []store.Mailbox
	SendAs       []string
	SendLimits   store.SendLimits
	AppPasswords []store.AppPassword
	LoginSources []store.LoginSource
	WebLogins    []store.WebLogin
	Web          store.WebAccount
	RecoveryLeft int
	// Records are the rows naming the address outside the account's own.
	Records store.PersonalRecords
	// MailEvents counts the mail log events naming the address.
	MailEvents int64
}

// Kinds says what the address is to the server: "account", "subscriber", "correspondent"
// (in the mail log or the queue), in that order, each at most once.
func (p *Person) Kinds() []string {
	out := []string{} // [] in the index, not null, when the address is only named somewhere
	if p.Account != nil {
		out = append(out, "account")
	}
	if p.Records.Subscriber != nil || len(p.Records.CampaignRecipients) > 0 {
		out = append(out, "subscriber")
	}
	if p.MailEvents > 0 || len(p.Records.Queue) > 0 {
		out = append(out, "correspondent")
	}
	return out
}

// Find gathers what the server holds about address; an *operr.Error (not_found, field
// "address") when it holds nothing.
func (s *Service) Find(ctx context.Context, address string) (*Person, error) {
	addr, err := operr.ParseAddress("address", address)
	if err != nil {
		return nil, err
	}
	g, err := s.gdprStore()
	if err != nil {
		return nil, err
	}
	addr = strings.ToLower(addr)
	p := &Person{Address: addr}
	if err := s.findAccount(ctx, p); err != nil {
		return nil, err
	}
	if p.Records, err = g.PersonalRecords(ctx, addr); err != nil {
		return nil, err
	}
	if err := g.PersonalMailEvents(ctx, addr, func(store.MailEvent) error { p.MailEvents++; return nil }); err != nil {
		return nil, err
	}
	if p.empty() {
		return nil, operr.New(operr.NotFound, "address", addr, store.ErrNotFound,
			"nothing is held about %s: no account, subscriber, mail log entry or other record names it", addr)
	}
	return p, nil
}

// empty reports whether nothing at all names the person.
func (p *Person) empty() bool {
	for _, c := range p.Parts() {
		if c.Count > 0 {
			return false
		}
	}
	return true
}

// findAccount fills in the account at p.Address and its own rows, when there is one.
func (s *Service) findAccount(ctx context.Context, p *Person) error {
	acc, err := s.Store.GetAccount(ctx, p.Address)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	p.Account = &acc
	if p.UsedBytes, _, err = s.Store.AccountUsage(ctx, acc.ID); err != nil {
		return err
	}
	if p.Mailboxes, err = s.Store.ListMailboxes(ctx, acc.ID); err != nil {
		return err
	}
	if sub, ok := s.Store.(store.SubmissionStore); ok {
		if p.SendAs, err = sub.ListSendAs(ctx, acc.ID); err != nil {
			return err
		}
		if p.SendLimits, err = sub.GetSendLimits(ctx, acc.ID); err != nil {
			return err
		}
		if p.AppPasswords, err = sub.ListAppPasswords(ctx, acc.ID); err != nil {
			return err
		}
	}
	if ls, ok := s.Store.(store.LoginStore); ok {
		if p.LoginSources, err = ls.LoginSources(ctx, acc.ID); err != nil {
			return err
		}
	}
	if ws, ok := s.Store.(store.WebStore); ok {
		if p.WebLogins, err = ws.WebLogins(ctx, acc.ID); err != nil {
			return err
		}
		if p.Web, err = ws.WebAccount(ctx, acc.ID); err != nil {
			return err
		}
		if p.RecoveryLeft, err = ws.RecoveryCodesLeft(ctx, acc.ID); err != nil {
			return err
		}
	}
	return nil
}

// Count is how many items one part of a person's data holds.
type Count struct {
	Part  string `json:"part"`
	Count int64  `json:"count"`
}

// Parts counts what p holds, part by part, in the order of the export (mailboxes together:
// their messages).
func (p *Person) Parts() []Count {
	r := &p.Records
	var account, messages int64
	if p.Account != nil {
		account = 1
		for _, m := range p.Mailboxes {
			messages += m.MessageCount
		}
	}
	subscriber := int64(0)
	if r.Subscriber != nil {
		subscriber = 1
	}
	n := func(k int) int64 { return int64(k) }
	return []Count{
		{"account", account},
		{"messages", messages},
		{"app_passwords", n(len(p.AppPasswords))},
		{"aliases", n(len(r.Aliases))},
		{"send_as_grants", n(len(r.SendAsGrants))},
		{"logins", n(len(p.LoginSources) + len(p.WebLogins))},
		{"web_sessions", n(len(r.WebSessions))},
		{"mail_log", p.MailEvents},
		{"queue", n(len(r.Queue))},
		{"subscriber", subscriber},
		{"subscriptions", n(len(r.Subscriptions))},
		{"consent_records", n(len(r.Subscriptions))},
		{"campaign_recipients", n(len(r.CampaignRecipients))},
		{"tracking_events", n(len(r.CampaignEvents))},
		{"suppressions", n(len(r.Suppressions)) + min(r.SoftBounces, 1)},
		{"spam_filter", n(len(r.SpamListEntries) + len(r.Correspondents))},
		{"greylist", n(len(r.Greylist))},
		{"transactional_sends", n(len(r.TransactionalSends))},
		{"audit", n(len(r.AuditEntries))},
	}
}

// auditLog returns the audit log of the store.
func (s *Service) auditLog() (*audit.Log, error) { return audit.For(s.Store) }
