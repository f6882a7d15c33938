// Package audit is posthorn's audit log: every administrative action, with who did it, what and
// when, whichever interface it came through — the command line, the JSON API, the web UI or
// the server's own jobs (retention, erasure).
//
// Who acts travels in the context: the interface that takes a request puts an Actor in it
// (WithActor: the CLI the operating system user, the API the token, the UI the logged-in
// account), and the operations (internal/admin, internal/campaign, internal/gdpr, and
// internal/websession for a user's own second factor) call Log.Record after a change succeeds. An action without an actor in its context is recorded
// as the "system" actor, so nothing goes unrecorded.
//
// The entries are kept by the store (store.AuditStore), append-only: the backend refuses to
// delete an entry or change its time and action. What an entry says about a person (an
// address in its target or details) is the only thing that may change, when that person's
// data is erased (Log.Pseudonymise). Entries are read back with List and written out as JSON
// lines with Export.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The kinds of actor.
const (
	KindCLI    = "cli"
	KindAPI    = "api"
	KindWeb    = "web"
	KindSystem = "system"
)

// CheckKind refuses a kind of actor that is not one of the four, naming field.
func CheckKind(field, kind string) error {
	switch kind {
	case KindCLI, KindAPI, KindWeb, KindSystem:
		return nil
	}
	return operr.New(operr.Invalid, field, kind, nil, "%s %q: want cli, api, web or system", field, kind)
}

// Actor is who performs an action: the interface (Kind) and who within it (Name).
type Actor struct {
	Kind string
	Name string
}

type ctxKey struct{}

// WithActor returns ctx carrying a.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, ctxKey{}, a)
}

// ActorFrom returns the actor ctx carries, or the system actor.
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(ctxKey{}).(Actor); ok && a.Kind != "" {
		return a
	}
	return Actor{Kind: KindSystem}
}

// Log writes and reads the audit log of one store.
type Log struct {
	store store.AuditStore
}

// New returns the audit log kept by s.
func New(s store.AuditStore) *Log { return &Log{store: s} }

// For returns the audit log of s, or an error naming the backend when it keeps none.
func For(s any) (*Log, error) {
	as, ok := s.(store.AuditStore)
	if !ok {
		return nil, fmt.Errorf("the store %T keeps no audit log", s)
	}
	return New(as), nil
}

// Details are the particulars of an action beyond its target; they are stored as one JSON
// object with sorted keys.
type Details map[string]any

// Record appends one entry: action (object.verb, like "user.add") on target by the actor of
// ctx, with details (nil for none).
func (l *Log) Record(ctx context.Context, action, target string, details Details) error {
	var text string
	if len(details) > 0 {
		b, err := json.Marshal(map[string]any(details)) // encoding/json sorts map keys
		if err != nil {
			return fmt.Errorf("audit %s %s: %w", action, target, err)
		}
		text = string(b)
	}
	a := ActorFrom(ctx)
	if _, err := l.store.AppendAudit(ctx, store.AuditEntry{ActorKind: a.Kind, Actor: a.Name, Action: action,
		Target: target, Details: text}); err != nil {
		return fmt.Errorf("audit %s %s: %w", action, target, err)
	}
	return nil
}

// List returns the entries f selects, oldest first.
func (l *Log) List(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	return l.store.ListAudit(ctx, f)
}

// Pseudonymise replaces personal (an address) with pseudonym in every entry and returns how
// many entries changed.
func (l *Log) Pseudonymise(ctx context.Context, personal, pseudonym string) (int, error) {
	return l.store.PseudonymiseAudit(ctx, personal, pseudonym)
}

// exportPage is how many entries Export reads at a time.
const exportPage = 1000

// Export writes the entries f selects (its AfterID and Limit are ignored) to w as JSON lines,
// one object per entry, reading the log page by page; it returns how many it wrote.
func (l *Log) Export(ctx context.Context, w io.Writer, f store.AuditFilter) (int, error) {
	enc := json.NewEncoder(w)
	f.AfterID, f.Limit = 0, exportPage
	n := 0
	for {
		page, err := l.store.ListAudit(ctx, f)
		if err != nil {
			return n, err
		}
		for _, e := range page {
			if err := enc.Encode(EntryJSON(e)); err != nil {
				return n, fmt.Errorf("export audit log: %w", err)
			}
			n++
		}
		if len(page) < exportPage {
			return n, nil
		}
		f.AfterID = page[len(page)-1].ID
	}
}

// Entry is an audit entry as the JSON API and Export write it.
type Entry struct {
	ID        int64           `json:"id"`
	Time      string          `json:"time"` // RFC 3339, UTC, nanoseconds
	ActorKind string          `json:"actor_kind"`
	Actor     string          `json:"actor"`
	Action    string          `json:"action"`
	Target    string          `json:"target"`
	Details   json.RawMessage `json:"details,omitempty"`
}

// EntryJSON is e as written out.
func EntryJSON(e store.AuditEntry) Entry {
	out := Entry{ID: e.ID, Time: e.Time.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"), ActorKind: e.ActorKind,
		Actor: e.Actor, Action: e.Action, Target: e.Target}
	if e.Details != "" && json.Valid([]byte(e.Details)) {
		out.Details = json.RawMessage(e.Details)
	}
	return out
}
