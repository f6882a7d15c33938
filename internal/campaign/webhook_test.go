package campaign

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/config"
	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// hookEnv is a store with one campaign of two recipients, r0 named and the other event
// anonymous, and a receiver that records what it is sent.
type hookEnv struct {
	t        *testing.T
	svc      *Service
	hooks    store.CampaignWebhookStore
	campaign store.Campaign
	rcpt     store.Recipient

	mu       sync.Mutex
	answer   func(n int, w http.ResponseWriter, r *http.Request) // n: requests so far, this one included
	requests []receivedBatch
	arrived  chan struct{}
	srv      *httptest.Server
}

type receivedBatch struct {
	ids    []int64
	events []WebhookEventJSON
	status int
}

const hookSecret = "whsec-test"

func newHookEnv(t *testing.T) *hookEnv {
	t.Helper()
	svc := newService(t)
	hs, ok := svc.Store.(store.CampaignWebhookStore)
	if !ok {
		t.Fatal("the store keeps no webhook cursors")
	}
	e := &hookEnv{t: t, svc: svc, hooks: hs, arrived: make(chan struct{}, 100)}
	c := seedCampaign(t, svc)
	rows, err := svc.Store.StreamRecipients(t.Context(), c.ID, 0, 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("ledger %v, %v", rows, err)
	}
	e.campaign, e.rcpt = c, rows[0]
	e.srv = httptest.NewServer(http.HandlerFunc(e.receive))
	t.Cleanup(e.srv.Close)
	return e
}

// seedCampaign is a campaign of one confirmed subscriber, with one link (index 1).
func seedCampaign(t *testing.T, s *Service) store.Campaign {
	t.Helper()
	ctx := t.Context()
	l := mustList(t, s, "news", "")
	if _, err := s.Store.SubscribeToList(ctx, l.ID, []store.SubscribeRequest{{Subscriber: store.Subscriber{Address: "ann@example.org"},
		Status: store.StatusConfirmed, Consent: store.Consent{At: time.Now(), Source: store.SourceCLI}}}); err != nil {
		t.Fatal(err)
	}
	c, err := s.Store.CreateCampaign(ctx, store.Campaign{Name: "June news", ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.Store.SetCampaignLinks(ctx, c.ID, []string{"", "https://example.org/a"}); err != nil {
		t.Fatal(err)
	}
	return c
}

// receive checks the signature of every request (the way the package doc tells receivers
// to), records it and answers as e.answer says (200 by default).
func (e *hookEnv) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	ts := r.Header.Get(HeaderWebhookTimestamp)
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	want := "v1=" + hex.EncodeToString(mac.Sum(nil))
	sec, err := strconv.ParseInt(ts, 10, 64)
	if !hmac.Equal([]byte(r.Header.Get(HeaderWebhookSignature)), []byte(want)) || err != nil ||
		time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute || r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != "application/json" {
		e.t.Errorf("request %s, timestamp %q, signature %q: not signed as documented", r.Method, ts,
			r.Header.Get(HeaderWebhookSignature))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p WebhookPayload
	if err := json.Unmarshal(body, &p); err != nil {
		e.t.Errorf("body %s: %v", body, err)
	}
	e.mu.Lock()
	b := receivedBatch{events: p.Events, status: http.StatusOK}
	for _, ev := range p.Events {
		b.ids = append(b.ids, ev.ID)
	}
	e.requests = append(e.requests, b)
	n, answer := len(e.requests), e.answer
	e.mu.Unlock()
	if answer != nil {
		rec := httptest.NewRecorder()
		answer(n, rec, r)
		e.mu.Lock()
		e.requests[n-1].status = rec.Code
		e.mu.Unlock()
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}
	select {
	case e.arrived <- struct{}{}:
	default: // a waiter reads e.requests anyway
	}
}

func (e *hookEnv) setAnswer(fn func(n int, w http.ResponseWriter, r *http.Request)) {
	e.mu.Lock()
	e.answer = fn
	e.mu.Unlock()
}

// received returns the batches received so far.
func (e *hookEnv) received() []receivedBatch {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.requests)
}

// waitRequests waits until n requests have arrived.
func (e *hookEnv) waitRequests(n int) []receivedBatch {
	e.t.Helper()
	deadline := time.After(10 * time.Second)
	for len(e.received()) < n {
		select {
		case <-e.arrived:
		case <-deadline:
			e.t.Fatalf("%d requests arrived, want %d: %+v", len(e.received()), n, e.received())
		}
	}
	return e.received()
}

// waitState waits until the webhook's saved state satisfies ok.
func (e *hookEnv) waitState(url string, ok func(store.WebhookState) bool) store.WebhookState {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := e.hooks.WebhookState(e.t.Context(), url, time.Now())
		if err != nil {
			e.t.Fatal(err)
		}
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("webhook state %+v", st)
		}
		<-tick.C
	}
}

// start runs a dispatcher of hook until the returned stop is called (or the test ends).
func (e *hookEnv) start(hook Webhook, tune func(*WebhookDispatcher)) (stop func()) {
	d := &WebhookDispatcher{Store: e.hooks, Hooks: []Webhook{hook}, Logger: storeenv.Logger(),
		Poll: 5 * time.Millisecond, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond}
	if tune != nil {
		tune(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Run(ctx)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	e.t.Cleanup(stop)
	return stop
}

// add records events and returns their ids.
func (e *hookEnv) add(events ...store.Event) []int64 {
	e.t.Helper()
	ctx := e.t.Context()
	before, err := e.hooks.EventsAfter(ctx, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var after int64
	if len(before) > 0 {
		after = before[len(before)-1].ID
	}
	for i := range events {
		events[i].CampaignID = e.campaign.ID
		if events[i].At.IsZero() {
			events[i].At = time.Date(2026, 6, 1, 10, 0, i, 0, time.UTC)
		}
	}
	if err := e.svc.Store.AddEvents(ctx, events); err != nil {
		e.t.Fatal(err)
	}
	added, err := e.hooks.EventsAfter(ctx, after, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var ids []int64
	for _, a := range added {
		ids = append(ids, a.ID)
	}
	return ids
}

func (e *hookEnv) hook(url string, kinds ...store.EventKind) Webhook {
	// The cursor is created before any event, so the webhook gets every one of them.
	if _, err := e.hooks.WebhookState(e.t.Context(), url, time.Now()); err != nil {
		e.t.Fatal(err)
	}
	return Webhook{URL: url, Secret: hookSecret, Events: kinds}
}

// TestWebhookSignedBatches: the events asked for arrive signed, in batches of at most Batch,
// with the recipient's address unless anonymous, the link's URL and the machine flag; the
// other kinds are passed over and the cursor ends past them.
func TestWebhookSignedBatches(t *testing.T) {
	e := newHookEnv(t)
	url := e.srv.URL + "/in"
	hook := e.hook(url, store.EventOpen, store.EventClick)
	r := e.rcpt.ID
	at := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	ids := e.add(
		store.Event{RecipientID: r, Kind: store.EventDelivered, LinkIndex: -1, At: at},
		store.Event{RecipientID: r, Kind: store.EventOpen, LinkIndex: -1, Machine: true, Reason: "privacy proxy", At: at},
		store.Event{RecipientID: r, Kind: store.EventClick, LinkIndex: 1, At: at.Add(time.Minute)},
		store.Event{Kind: store.EventOpen, LinkIndex: -1, At: at.Add(2 * time.Minute)},
		store.Event{RecipientID: r, Kind: store.EventUnsubscribe, LinkIndex: -1, At: at.Add(3 * time.Minute)},
	)
	e.start(hook, func(d *WebhookDispatcher) { d.Batch = 2 })
	e.waitState(url, func(st store.WebhookState) bool { return st.AfterID == ids[4] })
	got := e.received()
	// Batches of 2 read events: [delivered, open] -> [open]; [click, anonymous open]; [unsubscribe] -> nothing.
	if len(got) != 2 || !slices.Equal(got[0].ids, []int64{ids[1]}) || !slices.Equal(got[1].ids, []int64{ids[2], ids[3]}) {
		t.Fatalf("batches = %+v", got)
	}
	one := 1
	want := []WebhookEventJSON{
		{ID: ids[1], Kind: "open", CampaignID: e.campaign.ID, Campaign: "June news", Recipient: "ann@example.org",
			Machine: true, Reason: "privacy proxy", At: at},
		{ID: ids[2], Kind: "click", CampaignID: e.campaign.ID, Campaign: "June news", Recipient: "ann@example.org",
			LinkIndex: &one, Link: "https://example.org/a", At: at.Add(time.Minute)},
		{ID: ids[3], Kind: "open", CampaignID: e.campaign.ID, Campaign: "June news", At: at.Add(2 * time.Minute)},
	}
	all := append(slices.Clone(got[0].events), got[1].events...)
	for i := range want {
		g, w := all[i], want[i]
		if g.ID != w.ID || g.Kind != w.Kind || g.CampaignID != w.CampaignID || g.Campaign != w.Campaign ||
			g.Recipient != w.Recipient || g.Link != w.Link || g.Machine != w.Machine || g.Reason != w.Reason ||
			!g.At.Equal(w.At) || (g.LinkIndex == nil) != (w.LinkIndex == nil) || (g.LinkIndex != nil && *g.LinkIndex != *w.LinkIndex) {
			t.Errorf("event %d = %+v, want %+v", i, g, w)
		}
	}
}

// TestWebhookRetries: a receiver that fails three times gets the same events again after
// each backoff, and the cursor moves only after its 2xx; then the failures are forgotten.
func TestWebhookRetries(t *testing.T) {
	e := newHookEnv(t)
	url := e.srv.URL + "/flaky"
	hook := e.hook(url)
	e.setAnswer(func(n int, w http.ResponseWriter, r *http.Request) {
		if n <= 3 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
		}
	})
	ids := e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventBounce, LinkIndex: -1, Reason: "hard: 550 5.1.1"},
		store.Event{RecipientID: e.rcpt.ID, Kind: store.EventComplaint, LinkIndex: -1})
	e.start(hook, nil)
	got := e.waitRequests(4)
	for i, b := range got {
		if !slices.Equal(b.ids, ids) {
			t.Errorf("attempt %d carried %v, want %v", i+1, b.ids, ids)
		}
	}
	st := e.waitState(url, func(st store.WebhookState) bool { return st.AfterID == ids[1] })
	if st.Failures != 0 || st.LastError != "" || !st.NextAttempt.IsZero() {
		t.Errorf("state after the success = %+v", st)
	}
	// Nothing more is sent: the acknowledged events are not repeated.
	more := e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventOpen, LinkIndex: -1})
	got = e.waitRequests(5)
	if len(got) != 5 || !slices.Equal(got[4].ids, more) {
		t.Errorf("requests = %+v", got)
	}
}

// TestWebhookRestart: a new dispatcher on the same store resumes after the cursor: the
// acknowledged events are not sent again, the unacknowledged one is, none is lost.
func TestWebhookRestart(t *testing.T) {
	e := newHookEnv(t)
	url := e.srv.URL + "/restart"
	hook := e.hook(url)
	first := e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventOpen, LinkIndex: -1},
		store.Event{RecipientID: e.rcpt.ID, Kind: store.EventClick, LinkIndex: 1})
	stop := e.start(hook, func(d *WebhookDispatcher) { d.MinBackoff = 200 * time.Millisecond })
	e.waitState(url, func(st store.WebhookState) bool { return st.AfterID == first[1] })
	// The receiver goes down; the next event fails, and the retry waits.
	e.setAnswer(func(n int, w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	second := e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventUnsubscribe, LinkIndex: -1})
	failed := e.waitState(url, func(st store.WebhookState) bool { return st.Failures >= 1 })
	if failed.AfterID != first[1] || !strings.Contains(failed.LastError, "502") {
		t.Errorf("state after the failure = %+v", failed)
	}
	stop()
	e.setAnswer(nil)
	third := e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventComplaint, LinkIndex: -1})
	e.start(hook, nil)
	e.waitState(url, func(st store.WebhookState) bool { return st.AfterID == third[0] && st.Failures == 0 })
	var delivered []int64
	for _, b := range e.received() {
		if b.status/100 == 2 {
			delivered = append(delivered, b.ids...)
		}
	}
	want := append(append(slices.Clone(first), second...), third...)
	if !slices.Equal(delivered, want) {
		t.Errorf("acknowledged deliveries carried %v, want each of %v once", delivered, want)
	}
}

// TestWebhookTimeout: a receiver that never answers is given up on after Timeout, and the
// events go again at the retry.
func TestWebhookTimeout(t *testing.T) {
	e := newHookEnv(t)
	url := e.srv.URL + "/hang"
	hook := e.hook(url)
	hungUp := make(chan struct{}, 1)
	e.setAnswer(func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 1 {
			<-r.Context().Done() // the dispatcher hangs up
			hungUp <- struct{}{}
		}
	})
	ids := e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventOpen, LinkIndex: -1})
	e.start(hook, func(d *WebhookDispatcher) { d.Timeout = 100 * time.Millisecond })
	select {
	case <-hungUp:
	case <-time.After(30 * time.Second):
		t.Fatal("the dispatcher did not give up on the hanging receiver within 30 s")
	}
	// The retry after the failure is answered: the cursor moves and the failures are cleared.
	e.waitState(url, func(st store.WebhookState) bool { return st.AfterID == ids[0] && st.Failures == 0 })
	if n := len(e.received()); n < 2 {
		t.Errorf("%d requests, want the hung one and its retry", n)
	}
}

// TestWebhookNoRedirects: a 3xx is a failure; the dispatcher never goes where it points.
func TestWebhookNoRedirects(t *testing.T) {
	e := newHookEnv(t)
	url := e.srv.URL + "/moved"
	hook := e.hook(url)
	e.setAnswer(func(n int, w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		}
	})
	e.add(store.Event{RecipientID: e.rcpt.ID, Kind: store.EventOpen, LinkIndex: -1})
	e.start(hook, func(d *WebhookDispatcher) { d.MinBackoff, d.MaxBackoff = time.Hour, time.Hour })
	st := e.waitState(url, func(st store.WebhookState) bool { return st.Failures == 1 })
	if !strings.Contains(st.LastError, "302") || !strings.Contains(st.LastError, "not followed") ||
		st.NextAttempt.Before(time.Now().Add(50*time.Minute)) {
		t.Errorf("state = %+v", st)
	}
	if n := len(e.received()); n != 1 {
		t.Errorf("%d requests, want the one to /moved", n)
	}
}

func TestWebhookBackoff(t *testing.T) {
	d := &WebhookDispatcher{}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second,
		12: 2048 * time.Second, 13: time.Hour, 1000: time.Hour} {
		if got := d.backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

// TestWebhookKinds: the configuration's event kinds are the store's.
func TestWebhookKinds(t *testing.T) {
	kinds := []store.EventKind{store.EventOpen, store.EventClick, store.EventUnsubscribe, store.EventComplaint,
		store.EventBounce, store.EventDelivered, store.EventDeferred}
	var names []string
	for _, k := range kinds {
		names = append(names, string(k))
	}
	if !slices.Equal(config.WebhookEventKinds(), names) {
		t.Errorf("config.WebhookEventKinds() = %v, want %v", config.WebhookEventKinds(), names)
	}
}

func TestSignWebhook(t *testing.T) {
	// HMAC-SHA256("key", "1700000000.{}") computed independently (Python's hmac module).
	got := SignWebhook("key", "1700000000", []byte("{}"))
	if want := "v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}
