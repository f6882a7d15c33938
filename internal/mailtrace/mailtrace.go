// Package mailtrace is the message trace: it searches the mail log the server stores
// (store.MailEventStore, filled in batches by maillog.Writer, so an event shows up a fraction
// of a second after its log line) by sender, recipient, Message-ID and time, and lays out
// every step of one message: received (with the inbound filter's verdict and reasons), each
// mailbox it was stored in, queued, each delivery attempt with its reply, bounced.
//
// It is an operation beside internal/admin (which hands it out as Admin.Tracer for the
// command line) that depends on the store's interfaces only, so the JSON API can call it too.
// Bad input is an *operr.Error naming its field, as admin's. Event and Step are what every
// interface shows: `posthorn trace search|show --json` prints the same JSON as the API
// answers (WriteJSON).
package mailtrace

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Tracer runs the trace over one store's mail log.
type Tracer struct {
	Store store.MailEventStore
}

// MaxLimit is the most events one Search returns.
const MaxLimit = 1000

// Query is what Search looks for. Empty fields select everything. From and To are
// an address, matched exactly with the domain case-insensitive, or "@domain" for every address
// of a domain; To matches any recipient of an event. MsgID is a Message-ID, with or without
// angle brackets. Since is inclusive, Until exclusive. Limit is 0 (100) to MaxLimit;
// After is the ID of the last event of the previous page.
type Query struct {
	From, To     string
	MsgID        string
	Since, Until time.Time
	Limit        int
	After        int64
}

// Step is one step of a message's way through the server, in words and as logged.
type Step struct {
	Time time.Time `json:"time"`
	// Step is received, verdict, stored, queued, rejected, tempfail, delivered, deferred or
	// bounced.
	Step string `json:"step"`
	// Summary says what happened in one line.
	Summary string `json:"summary"`
	// Event is the mail log event the step comes from; a received event gives several steps.
	Event Event `json:"event"`
}

// Event is a stored mail log event as the trace shows it; the keys are the mail log's
// (package maillog), Message being its "id" and ID the event's own.
type Event struct {
	ID        int64     `json:"id"`
	Time      time.Time `json:"time"`
	Event     string    `json:"event"`
	Message   string    `json:"message"`
	MsgID     string    `json:"msgid"`
	From      string    `json:"from"`
	Rcpt      string    `json:"rcpt"`
	Result    string    `json:"result"`
	Code      string    `json:"code"`
	Remote    string    `json:"remote"`
	Size      int64     `json:"size"`
	Conn      string    `json:"conn"`
	Reasons   string    `json:"reasons"`
	Mailboxes []Mailbox `json:"mailboxes"`
}

// Mailbox is one local copy a received message made.
type Mailbox struct {
	Account string `json:"account"`
	Mailbox string `json:"mailbox"`
}

func viewEvent(e store.MailEvent) Event {
	v := Event{ID: e.ID, Time: e.Time.UTC(), Event: e.Event, Message: e.BlobID, MsgID: e.MsgID, From: e.From,
		Rcpt: e.Rcpt, Result: e.Result, Code: e.Code, Remote: e.Remote, Size: e.Size, Conn: e.Conn,
		Reasons: e.Reasons, Mailboxes: make([]Mailbox, len(e.Mailboxes))}
	for i, m := range e.Mailboxes {
		v.Mailboxes[i] = Mailbox{Account: m.Account, Mailbox: m.Mailbox}
	}
	return v
}

// Traced is the answer of Trace as JSON shows it.
type Traced struct {
	Ref   string `json:"ref"`
	Steps []Step `json:"steps"`
}

// WriteJSON writes v (a Found or a Traced) as the command line and the API show it: indented
// by two spaces, one newline at the end.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Found is one page of a search: the events, newest first, and the After of the next page
// (0 when this one is the last).
type Found struct {
	Events []Event `json:"events"`
	Next   int64   `json:"next_after,omitempty"`
}

// Search returns the mail log events q selects, newest first. Bad input is an *operr.Error
// naming its field (from, to, msgid, since, until, limit, after).
func (t *Tracer) Search(ctx context.Context, q Query) (Found, error) {
	sq, err := storeQuery(q)
	if err != nil {
		return Found{}, err
	}
	events, err := t.Store.SearchMailEvents(ctx, sq)
	if err != nil {
		return Found{}, fmt.Errorf("search the mail log: %w", err)
	}
	out := Found{Events: make([]Event, len(events))}
	for i, e := range events {
		out.Events[i] = viewEvent(e)
	}
	limit := cmp.Or(sq.Limit, store.DefaultMailEventLimit)
	if len(events) == limit {
		out.Next = events[len(events)-1].ID
	}
	return out, nil
}

// storeQuery checks q and turns it into the store's query.
func storeQuery(q Query) (store.MailEventQuery, error) {
	from, err := traceAddress("from", q.From)
	if err != nil {
		return store.MailEventQuery{}, err
	}
	to, err := traceAddress("to", q.To)
	if err != nil {
		return store.MailEventQuery{}, err
	}
	msgid := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(q.MsgID), "<"), ">")
	if strings.ContainsAny(msgid, "<> \t\r\n") {
		return store.MailEventQuery{}, operr.New(operr.Invalid, "msgid", q.MsgID, nil,
			"message-id %q: want one id, with or without angle brackets", q.MsgID)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Since.Before(q.Until) {
		return store.MailEventQuery{}, operr.New(operr.Invalid, "until", q.Until.Format(time.RFC3339), nil,
			"until %s is not after since %s", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
	}
	if q.Limit < 0 || q.Limit > MaxLimit {
		return store.MailEventQuery{}, operr.New(operr.Invalid, "limit", fmt.Sprint(q.Limit), nil,
			"limit %d: want 1 to %d", q.Limit, MaxLimit)
	}
	if q.After < 0 {
		return store.MailEventQuery{}, operr.New(operr.Invalid, "after", fmt.Sprint(q.After), nil,
			"after %d: want the id of an event", q.After)
	}
	return store.MailEventQuery{From: from, Rcpt: to, MsgID: msgid, Since: q.Since, Until: q.Until,
		Limit: q.Limit, After: q.After}, nil
}

// traceAddress checks an address or "@domain" searched for as field. The local part is kept
// as given (the log keeps what the client sent); the store compares the domain without case.
func traceAddress(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if d, ok := strings.CutPrefix(s, "@"); ok {
		if _, err := address.ParseDomain(d); err != nil {
			return "", operr.New(operr.Invalid, field, s, err, "domain %q: %v", d, err)
		}
		return s, nil
	}
	if _, err := address.Parse(s); err != nil {
		return "", operr.New(operr.Invalid, field, s, err, "%v", err)
	}
	return s, nil
}

// Trace returns every step of one message, oldest first: ref is posthorn's id of the message
// (its blob id, as the mail log's "id" and the Received header give it) or its Message-ID.
// A Message-ID received more than once traces every copy. Nothing logged for ref is an
// *operr.Error with code not_found and field "id".
func (t *Tracer) Trace(ctx context.Context, ref string) ([]Step, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return nil, operr.New(operr.Invalid, "id", ref, nil, "give a message's id or Message-ID")
	}
	events, err := t.Store.MailEventsOf(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", ref, err)
	}
	if len(events) == 0 {
		if events, err = t.eventsOfMsgID(ctx, ref); err != nil {
			return nil, err
		}
	}
	if len(events) == 0 {
		return nil, operr.New(operr.NotFound, "id", ref, store.ErrNotFound,
			"no message %q in the mail log", ref)
	}
	var steps []Step
	for _, e := range events {
		steps = append(steps, traceSteps(e)...)
	}
	return steps, nil
}

// eventsOfMsgID returns the events of every message logged with Message-ID msgid, in the
// order they were stored.
func (t *Tracer) eventsOfMsgID(ctx context.Context, msgid string) ([]store.MailEvent, error) {
	msgid = strings.TrimSuffix(strings.TrimPrefix(msgid, "<"), ">")
	found, err := t.Store.SearchMailEvents(ctx, store.MailEventQuery{MsgID: msgid, Limit: MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("trace %s: %w", msgid, err)
	}
	var ids []string
	for _, e := range found {
		if e.BlobID != "" && !slices.Contains(ids, e.BlobID) {
			ids = append(ids, e.BlobID)
		}
	}
	var events []store.MailEvent
	for _, id := range ids {
		of, err := t.Store.MailEventsOf(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("trace %s: %w", msgid, err)
		}
		events = append(events, of...)
	}
	slices.SortStableFunc(events, func(x, y store.MailEvent) int { return cmp.Compare(x.ID, y.ID) })
	return events, nil
}

// traceSteps lays out one event as steps: a received message gives its arrival, the filter's
// verdict when it had findings or sent it to Junk, one step per mailbox it was stored in, and
// queued when remote recipients wait in the queue.
func traceSteps(e store.MailEvent) []Step {
	view := viewEvent(e)
	step := func(name, format string, args ...any) Step {
		return Step{Time: view.Time, Step: name, Summary: fmt.Sprintf(format, args...), Event: view}
	}
	from := e.From
	if from == "" {
		from = "<>"
	}
	switch e.Event {
	case "received":
		steps := []Step{step("received", "received from %s for %s from %s, %d bytes: %s",
			from, e.Rcpt, e.Remote, e.Size, e.Code)}
		if e.Reasons != "" || e.Result == "junk" {
			reasons := e.Reasons
			if reasons == "" {
				reasons = "none"
			}
			verdict := "accepted"
			if e.Result == "junk" {
				verdict = "junk"
			}
			steps = append(steps, step("verdict", "verdict %s, reasons: %s", verdict, reasons))
		}
		for _, m := range e.Mailboxes {
			steps = append(steps, step("stored", "delivered to %s, mailbox %s", m.Account, m.Mailbox))
		}
		if e.Result == "queued" {
			steps = append(steps, step("queued", "queued for the remote recipients"))
		}
		if e.Result == "feedback" {
			steps = append(steps, step("stored", "taken as bulk mail feedback for %s", e.Rcpt))
		}
		return steps
	case "delivered":
		return []Step{step("delivered", "delivered to %s at %s: %s", e.Rcpt, e.Remote, e.Code)}
	case "deferred":
		return []Step{step("deferred", "delivery to %s at %s deferred: %s", e.Rcpt, orUnknown(e.Remote), e.Code)}
	case "bounced":
		return []Step{step("bounced", "delivery to %s failed at %s, bounced: %s", e.Rcpt, orUnknown(e.Remote), e.Code)}
	case "rejected", "tempfail":
		return []Step{step(e.Event, "%s from %s for %s from %s: %s, %s", e.Event, from, e.Rcpt, e.Remote, e.Result, e.Code)}
	}
	return []Step{step(e.Event, "%s: %s %s", e.Event, e.Result, e.Code)}
}

func orUnknown(s string) string {
	if s == "" {
		return "(no host)"
	}
	return s
}
