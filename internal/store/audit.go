package store

import (
	"context"
	"strings"
	"time"
)

// AuditEntry is one administrative action in the audit log: who did what to which object,
// and when. The log is append-only: entries are never deleted or reordered, and their time
// and action never change. Only the personal data in them (Actor, Target, Details) may be
// replaced, by PseudonymiseAudit, when a person's data is erased.
type AuditEntry struct {
	ID   int64
	Time time.Time
	// ActorKind is the interface the action came through: "cli", "api", "web" or "system"
	// (the server's own jobs); Actor names who within it (the operating system user, the API
	// token, the web account, the job).
	ActorKind string
	Actor     string
	// Action is what was done, as object.verb ("domain.add", "queue.delete").
	Action string
	// Target is the object acted on (a domain, an address, a queue id); Details is a JSON
	// object with the rest ("" when there is nothing more).
	Target  string
	Details string
}

// AuditFilter selects audit entries. Zero fields select everything; entries come in id
// (time) order, oldest first.
type AuditFilter struct {
	Since, Until time.Time // Until is exclusive
	ActorKind    string
	Actor        string
	// Action selects one action ("user.add") or, ending in ".", every action on one kind of
	// object ("user.").
	Action string
	Target string
	// AfterID continues a listing after the entry with this id.
	AfterID int64
	// Limit caps the number of entries returned (0: no cap).
	Limit int
}

// AuditStore keeps the audit log. Backends implement it beside Store; callers find it by type
// assertion. The backend itself refuses deletions and changes of an entry's time and action.
type AuditStore interface {
	// AppendAudit adds e (its ID is ignored; a zero Time is now) and returns it as stored.
	AppendAudit(ctx context.Context, e AuditEntry) (AuditEntry, error)
	// ListAudit returns the entries f selects.
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// PseudonymiseAudit replaces every occurrence of personal (compared case-insensitively)
	// in the actor, target and details of every entry with replacement, and returns how many
	// entries changed.
	PseudonymiseAudit(ctx context.Context, personal, replacement string) (int, error)
}

// ReplaceFold replaces every occurrence of old in s, compared case-insensitively (ASCII
// case, as addresses are compared), with repl.
func ReplaceFold(s, old, repl string) string {
	lower, lold := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) || !strings.Contains(lower, lold) {
		return strings.ReplaceAll(s, old, repl)
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lold)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(old):], lower[i+len(old):]
	}
}
