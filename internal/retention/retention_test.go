package retention

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/audit"
	"posthorn/internal/blob"
	"posthorn/internal/bodystore"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// now is the time of every test's runs.
var now = time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC)

// daysAgo is now minus n days, and an hour more, so that a message of n days is past a rule
// of n days.
func daysAgo(n int) time.Time { return now.Add(-time.Duration(n)*24*time.Hour - time.Hour) }

// env is a store with accounts of two domains and a Service over it.
type env struct {
	*mailenv.Env
	t       *testing.T
	carol   store.Account // example.org, under legal hold
	dave    store.Account // other.example
	svc     *Service
	metrics *Metrics
	reg     *prometheus.Registry
}

// rules are the tests' rules: Junk 30 days, Trash 60, other.example's Junk 5; mail log,
// tracking and login history 30 days.
func rules() config.Retention {
	r := config.DefaultRetention()
	r.JunkDays, r.TrashDays = 30, 60
	r.MailLogDays, r.TrackingDays, r.LoginHistoryDays = 30, 30, 30
	five := 5
	r.Domains["other.example"] = config.RetentionDomain{JunkDays: &five}
	return r
}

func newEnv(t *testing.T, e *mailenv.Env) *env {
	t.Helper()
	e.AddDomain("other.example")
	v := &env{Env: e, t: t, reg: prometheus.NewRegistry()}
	v.carol = e.AddAccount("carol@example.org", "x")
	v.dave = e.AddAccount("dave@other.example", "x")
	if err := e.Store.(store.RetentionStore).SetLegalHold(t.Context(), v.carol.ID, true, now); err != nil {
		t.Fatal(err)
	}
	v.metrics = NewMetrics(v.reg)
	v.svc = &Service{Store: e.Store, Retention: e.Store.(store.RetentionStore), Bodies: e.Blobs.Bodies(),
		Rules: rules(), Logger: e.Logger, Metrics: v.metrics, Now: func() time.Time { return now }}
	return v
}

// deliverAt delivers a message dated at to a mailbox of acc and returns its blob id.
func (v *env) deliverAt(acc store.Account, mailbox string, at time.Time) string {
	v.t.Helper()
	ctx := context.Background()
	draft, err := v.Committer.NewDraft(ctx)
	if err != nil {
		v.t.Fatal(err)
	}
	defer draft.Abort()
	fmt.Fprintf(draft, "From: x@example.net\r\nSubject: %s %s\r\n\r\nbody\r\n", mailbox, at.Format(time.DateOnly))
	if _, err := draft.Commit(ctx, delivery.Message{InternalDate: at,
		Targets: []store.Target{{AccountID: acc.ID, Mailbox: mailbox}}}); err != nil {
		v.t.Fatal(err)
	}
	return draft.ID()
}

// dates returns the internal dates (as days before now) of a mailbox's messages.
func (v *env) dates(acc store.Account, mailbox string) []int {
	v.t.Helper()
	mb, err := v.Store.GetMailbox(context.Background(), acc.ID, mailbox)
	if err != nil {
		v.t.Fatal(err)
	}
	msgs, err := v.Store.ListMessages(context.Background(), mb.ID)
	if err != nil {
		v.t.Fatal(err)
	}
	var out []int
	for _, m := range msgs {
		out = append(out, int(now.Sub(m.InternalDate)/(24*time.Hour)))
	}
	return out
}

func (v *env) hasBody(id string) bool {
	v.t.Helper()
	b, err := v.Blobs.Bodies().Open(context.Background(), id)
	if errors.Is(err, bodystore.ErrNotFound) {
		return false
	}
	if err != nil {
		v.t.Fatal(err)
	}
	b.Close()
	return true
}

// fill gives every account old and new messages, and the store old and new records.
func (v *env) fill() (oldJunk string) {
	v.t.Helper()
	oldJunk = v.deliverAt(v.Alice, "Junk", daysAgo(40))
	v.deliverAt(v.Alice, "Junk", daysAgo(10))
	v.deliverAt(v.Alice, "Trash", daysAgo(40))
	v.deliverAt(v.Alice, "Trash", daysAgo(70))
	v.deliverAt(v.Alice, "INBOX", daysAgo(1000))
	v.deliverAt(v.dave, "Junk", daysAgo(10))
	v.deliverAt(v.dave, "Junk", daysAgo(2))
	v.deliverAt(v.dave, "Trash", daysAgo(40))
	v.deliverAt(v.carol, "Junk", daysAgo(400))
	v.deliverAt(v.carol, "Trash", daysAgo(400))

	ctx := context.Background()
	st := v.Store
	must(v.t, st.AddMailEvents(ctx, []store.MailEvent{
		{Time: daysAgo(40), Event: "received", MsgID: "old@x", From: "x@example.net", Rcpt: "alice@example.org"},
		{Time: daysAgo(40), Event: "received", MsgID: "old-held@x", From: "x@example.net", Rcpt: "carol@example.org"},
		{Time: daysAgo(1), Event: "received", MsgID: "new@x", From: "x@example.net", Rcpt: "alice@example.org"},
	}))
	c, err := st.CreateCampaign(ctx, store.Campaign{Name: "news"})
	must(v.t, err)
	must(v.t, st.AddEvents(ctx, []store.Event{
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1, At: daysAgo(40)},
		{CampaignID: c.ID, Kind: store.EventClick, LinkIndex: 0, At: daysAgo(1)},
	}))
	must(v.t, st.RecordLoginSource(ctx, v.Alice.ID, "192.0.2.1/32", daysAgo(40), 10))
	must(v.t, st.RecordLoginSource(ctx, v.carol.ID, "192.0.2.2/32", daysAgo(40), 10))
	must(v.t, st.RecordWebLogin(ctx, store.WebLogin{AccountID: v.Alice.ID, At: daysAgo(40), Source: "192.0.2.1"}, 10))
	return oldJunk
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRunRemovesWhatTheRulesSay(t *testing.T) {
	v := newEnv(t, mailenv.NewWithPasswordHash(t, "mx.example.org", "x"))
	oldJunk := v.fill()
	rep, err := v.svc.Run(t.Context(), false)
	must(t, err)

	for _, tc := range []struct {
		acc     store.Account
		mailbox string
		want    []int
	}{
		{v.Alice, "Junk", []int{10}},    // 40 days > 30: gone; 10 stays
		{v.Alice, "Trash", []int{40}},   // Trash's own rule: 60 days
		{v.Alice, "INBOX", []int{1000}}, // no rule: kept forever
		{v.dave, "Junk", []int{2}},      // other.example's rule (5 days) wins over 30
		{v.dave, "Trash", []int{40}},    // the default rule for what the domain leaves out
		{v.carol, "Junk", []int{400}},   // legal hold
		{v.carol, "Trash", []int{400}},  // legal hold
		{v.Bob, "Junk", nil},            // nothing there, nothing wrong
		{v.Alice, "Sent", nil},
		{v.Alice, "Sent", nil}, // no rule, no mail
	} {
		if got := v.dates(tc.acc, tc.mailbox); !slices.Equal(got, tc.want) {
			t.Errorf("%s %s: messages of %v days, want %v", tc.acc.Address, tc.mailbox, got, tc.want)
		}
	}
	if v.hasBody(oldJunk) {
		t.Error("the body of an expired message is still in the body store")
	}
	want := Report{At: now, Messages: 3, HeldAccounts: 1,
		Mailboxes: []MailboxReport{{"alice@example.org", "Trash", 60, 1}, {"alice@example.org", "Junk", 30, 1},
			{"dave@other.example", "Junk", 5, 1}},
		Pruned: store.Pruned{MailEvents: 1, TrackingEvents: 1, LoginSources: 1, WebLogins: 1}}
	if fmt.Sprint(rep) != fmt.Sprint(want) {
		t.Errorf("report = %+v\nwant     %+v", rep, want)
	}
	problems, err := v.Store.Check(t.Context())
	must(t, err)
	if len(problems) > 0 {
		t.Errorf("store check: %v", problems)
	}
	if src, err := v.Store.LoginSources(t.Context(), v.carol.ID); err != nil || len(src) != 1 {
		t.Errorf("held account's login sources = %v, %v", src, err)
	}
	evs, err := v.Store.SearchMailEvents(t.Context(), store.MailEventQuery{})
	must(t, err)
	if len(evs) != 2 || evs[0].MsgID != "new@x" || evs[1].MsgID != "old-held@x" {
		t.Errorf("mail events left = %+v", evs)
	}

	// The metrics count it, and one audit entry records it, the system's.
	for kind, n := range map[string]float64{"messages": 3, "mail_events": 1, "tracking_events": 1, "login_sources": 1, "web_logins": 1} {
		if got := testutil.ToFloat64(v.metrics.removed.WithLabelValues(kind)); got != n {
			t.Errorf("removed{kind=%s} = %v, want %v", kind, got, n)
		}
	}
	if got := testutil.ToFloat64(v.metrics.lastRun); got != float64(now.Unix()) {
		t.Errorf("last run = %v, want %v", got, now.Unix())
	}
	if got := testutil.ToFloat64(v.metrics.runs.WithLabelValues("ok")); got != 1 {
		t.Errorf("runs{ok} = %v", got)
	}
	entries := auditEntries(t, v)
	if len(entries) != 1 || entries[0].ActorKind != audit.KindSystem || entries[0].Details !=
		`{"at":"2026-06-01T04:00:00Z","held_accounts":1,"login_sources":1,"mail_events":1,"messages":3,"tracking_events":1,"web_logins":1}` {
		t.Errorf("audit entries = %+v", entries)
	}

	// A second run finds nothing more, and counts on.
	rep, err = v.svc.Run(t.Context(), false)
	must(t, err)
	if rep.Messages != 0 || rep.Pruned != (store.Pruned{}) {
		t.Errorf("second run = %+v", rep)
	}
	if got := testutil.ToFloat64(v.metrics.runs.WithLabelValues("ok")); got != 2 {
		t.Errorf("runs{ok} after two runs = %v", got)
	}
	if got := testutil.ToFloat64(v.metrics.removed.WithLabelValues("messages")); got != 3 {
		t.Errorf("removed{kind=messages} after two runs = %v", got)
	}
	if n := len(auditEntries(t, v)); n != 2 {
		t.Errorf("%d audit entries after two runs", n)
	}

	// Lifting the hold lets the next run reach the account.
	must(t, v.svc.Retention.SetLegalHold(t.Context(), v.carol.ID, false, now))
	rep, err = v.svc.Run(t.Context(), false)
	must(t, err)
	if rep.Messages != 2 || rep.HeldAccounts != 0 || rep.MailEvents != 1 || rep.LoginSources != 1 {
		t.Errorf("run after lifting the hold = %+v", rep)
	}
	if got := v.dates(v.carol, "Junk"); len(got) != 0 {
		t.Errorf("carol's Junk after lifting the hold: %v", got)
	}
	if got := v.dates(v.carol, "Trash"); len(got) != 0 {
		t.Errorf("carol's Trash after lifting the hold: %v", got)
	}
}

func auditEntries(t *testing.T, v *env) []store.AuditEntry {
	t.Helper()
	log, err := audit.For(v.Store)
	must(t, err)
	entries, err := log.List(t.Context(), store.AuditFilter{Action: "retention.run"})
	must(t, err)
	return entries
}

func TestDryRunRemovesNothing(t *testing.T) {
	v := newEnv(t, mailenv.NewWithPasswordHash(t, "mx.example.org", "x"))
	oldJunk := v.fill()
	rep, err := v.svc.Run(t.Context(), true)
	must(t, err)
	if !rep.DryRun || rep.Messages != 3 || len(rep.Mailboxes) != 3 ||
		rep.Pruned != (store.Pruned{MailEvents: 1, TrackingEvents: 1, LoginSources: 1, WebLogins: 1}) {
		t.Errorf("dry run report = %+v", rep)
	}
	if got := v.dates(v.Alice, "Junk"); !slices.Equal(got, []int{40, 10}) {
		t.Errorf("alice's Junk after a dry run: %v", got)
	}
	if got := v.dates(v.dave, "Junk"); len(got) != 2 {
		t.Errorf("dave's Junk after a dry run: %v", got)
	}
	if !v.hasBody(oldJunk) {
		t.Error("a dry run removed a body")
	}
	evs, err := v.Store.SearchMailEvents(t.Context(), store.MailEventQuery{})
	must(t, err)
	if len(evs) != 3 {
		t.Errorf("%d mail events after a dry run, want 3", len(evs))
	}
	if got := testutil.ToFloat64(v.metrics.removed.WithLabelValues("messages")); got != 0 {
		t.Errorf("a dry run counted %v removed messages", got)
	}
	if got := testutil.ToFloat64(v.metrics.lastRun); got != 0 {
		t.Errorf("a dry run set the last run to %v", got)
	}
	if n := len(auditEntries(t, v)); n != 0 {
		t.Errorf("a dry run wrote %d audit entries", n)
	}
}

// TestChangeFeedSeesTheExpunge: a run's removal is published like an expunge, with a MODSEQ
// that ExpungedSince (QRESYNC's VANISHED) reports.
func TestChangeFeedSeesTheExpunge(t *testing.T) {
	v := newEnv(t, mailenv.NewWithPasswordHash(t, "mx.example.org", "x"))
	v.deliverAt(v.Alice, "Junk", daysAgo(40))
	v.deliverAt(v.Alice, "Junk", daysAgo(1))
	junk, err := v.Store.GetMailbox(t.Context(), v.Alice.ID, "Junk")
	must(t, err)
	changes, stop := v.Store.Subscribe(v.Alice.ID)
	defer stop()
	_, err = v.svc.Run(t.Context(), false)
	must(t, err)
	select {
	case c := <-changes:
		if c.Kind != store.ChangeExpunge || c.MailboxID != junk.ID || c.ModSeq <= junk.HighestModSeq {
			t.Errorf("change = %+v, want an expunge in Junk (%d) after MODSEQ %d", c, junk.ID, junk.HighestModSeq)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no change published")
	}
	gone, err := v.Store.ExpungedSince(t.Context(), junk.ID, junk.HighestModSeq)
	must(t, err)
	if !slices.Equal(gone, []uint32{1}) {
		t.Errorf("expunged since = %v, want [1]", gone)
	}
}

// TestBodyFailureDoesNotStopTheRun: a body that cannot be removed is left to the orphan sweep;
// the messages are gone all the same.
func TestBodyFailureDoesNotStopTheRun(t *testing.T) {
	v := newEnv(t, mailenv.NewWithPasswordHash(t, "mx.example.org", "x"))
	v.deliverAt(v.Alice, "Junk", daysAgo(40))
	v.svc.Bodies = failingBodies{v.Blobs}
	rep, err := v.svc.Run(t.Context(), false)
	must(t, err)
	if rep.Messages != 1 || len(v.dates(v.Alice, "Junk")) != 0 {
		t.Errorf("report %+v, Junk %v", rep, v.dates(v.Alice, "Junk"))
	}
}

type failingBodies struct{ fs *blob.FS }

func (f failingBodies) Open(ctx context.Context, id string) (bodystore.Body, error) {
	return f.fs.Bodies().Open(ctx, id)
}
func (f failingBodies) Remove(context.Context, string) error { return io.ErrClosedPipe }

// TestFailedPartIsReported: a part of the run that fails does not stop the rest; the run
// returns the error, counts as failed and says so in its audit entry.
func TestFailedPartIsReported(t *testing.T) {
	v := newEnv(t, mailenv.NewWithPasswordHash(t, "mx.example.org", "x"))
	v.deliverAt(v.Alice, "Junk", daysAgo(40))
	v.svc.Retention = failingPrune{v.svc.Retention}
	rep, err := v.svc.Run(t.Context(), false)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("run error = %v", err)
	}
	if rep.Messages != 1 || len(v.dates(v.Alice, "Junk")) != 0 {
		t.Errorf("the messages should go all the same: %+v", rep)
	}
	if got := testutil.ToFloat64(v.metrics.runs.WithLabelValues("failed")); got != 1 {
		t.Errorf("runs{failed} = %v", got)
	}
	if entries := auditEntries(t, v); len(entries) != 1 || !strings.Contains(entries[0].Details, `"errors":1`) {
		t.Errorf("audit entries = %+v", entries)
	}
}

type failingPrune struct{ store.RetentionStore }

func (failingPrune) PruneRecords(context.Context, store.Prune) (store.Pruned, error) {
	return store.Pruned{}, io.ErrUnexpectedEOF
}
