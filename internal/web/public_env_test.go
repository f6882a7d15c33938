package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/campaign"
	"posthorn/internal/campaign/token"
	"posthorn/internal/config"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// publicURL is the [campaign] public_url of the tests' tracker (tokens do not depend on it,
// the honeypot's target does).
const publicURL = "https://news.example.org"

// recordingStore is the campaign store with every batch of events it records kept, and the
// store's audit log, where the campaign service records its operations.
type recordingStore struct {
	store.CampaignStore
	store.AuditStore
	mu      sync.Mutex
	events  []store.Event
	batches int
}

func (r *recordingStore) AddEvents(ctx context.Context, events []store.Event) error {
	r.mu.Lock()
	r.events = append(r.events, events...)
	r.batches++
	r.mu.Unlock()
	return r.CampaignStore.AddEvents(ctx, events)
}

// publicEnv is a mail environment with lists, a tracked campaign to two subscribers, and the
// public routes served over real HTTP.
type publicEnv struct {
	*mailenv.Env
	t       testing.TB
	cs      store.CampaignStore
	rec     *recordingStore
	svc     *campaign.Service
	tracker *campaign.Tracker
	srv     *httptest.Server
	signer  token.Signer
	news    store.List // single opt-in
	letters store.List // double opt-in
	camp    store.Campaign
	carol   store.Recipient // tracking consent
	dave    store.Recipient // no tracking consent
	links   []string        // the campaign's links: links[i] has index i+1
	closed  bool
	client  *http.Client
	handler http.Handler
}

func newPublicEnv(t testing.TB, tune ...func(*config.Campaign)) *publicEnv {
	t.Helper()
	e := &publicEnv{t: t, Env: mailenv.NewWithPasswordHash(t, "mx.example.org", "")}
	ctx := t.Context()
	cs, ok := e.Store.(store.CampaignStore)
	if !ok {
		t.Fatal("the store keeps no campaigns")
	}
	e.cs = cs
	e.rec = &recordingStore{CampaignStore: cs, AuditStore: cs.(store.AuditStore)}
	e.svc = &campaign.Service{Store: e.rec}
	var err error
	if e.news, err = e.svc.CreateList(ctx, campaign.ListInput{Name: "news", Description: "Monthly <b>news</b>"}); err != nil {
		t.Fatal(err)
	}
	if e.letters, err = e.svc.CreateList(ctx, campaign.ListInput{Name: "letters", OptIn: "double"}); err != nil {
		t.Fatal(err)
	}
	for _, in := range []campaign.SubscriberInput{
		{Address: "carol@remote.example", Name: "Carol", List: "news", Tracking: true},
		{Address: "carol@remote.example", Name: "Carol", List: "letters", Tracking: true, Confirmed: true},
		{Address: "dave@remote.example", Name: "Dave", List: "news"},
	} {
		if _, err := e.svc.SaveSubscriber(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	e.camp, err = cs.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "June", HTML: "<p>Hello {{.Name}}</p>",
		From: "news@example.org", ListIDs: []int64{e.news.ID, e.letters.ID}, Tracking: true})
	if err != nil {
		t.Fatal(err)
	}
	e.links = []string{"https://example.com/a", "https://example.com/b?x=1&y=2"}
	if err := cs.SetCampaignLinks(ctx, e.camp.ID, append([]string{""}, e.links...)); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.FillRecipients(ctx, e.camp.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := cs.StreamRecipients(ctx, e.camp.ID, 0, 10)
	if err != nil || len(rows) != 2 {
		t.Fatalf("StreamRecipients = %v, %v", rows, err)
	}
	for _, r := range rows {
		switch r.Address {
		case "carol@remote.example":
			e.carol = r
		case "dave@remote.example":
			e.dave = r
		}
	}
	if e.signer, err = e.svc.Signer(ctx); err != nil {
		t.Fatal(err)
	}
	cc := config.DefaultCampaign()
	cc.PublicURL = publicURL
	cc.FormPerIPPerHour = 1000
	for _, f := range tune {
		f(&cc)
	}
	e.tracker = campaign.NewTracker(e.svc, campaign.TrackerConfig{Campaign: cc,
		Outbox: &campaign.Outbox{Store: e.Store, Committer: e.Committer}, Logger: e.Logger})
	t.Cleanup(e.close)
	e.handler = Handler(prometheus.NewRegistry(), Health{Store: pinger{}}, MetricsAccess{}, e.Logger, CampaignRoutes(e.tracker, e.Logger))
	e.srv = httptest.NewServer(e.handler)
	t.Cleanup(e.srv.Close)
	e.client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

// close stops the tracker, which records every buffered event.
func (e *publicEnv) close() {
	if !e.closed {
		e.closed = true
		e.tracker.Close()
	}
}

// recorded stops the tracker and returns every event it recorded.
func (e *publicEnv) recorded() []store.Event {
	e.close()
	e.rec.mu.Lock()
	defer e.rec.mu.Unlock()
	return append([]store.Event(nil), e.rec.events...)
}

func (e *publicEnv) links0(r store.Recipient) campaign.Links {
	return campaign.Links{Signer: e.signer, Base: e.srv.URL, Domain: "example.org", Campaign: e.camp.ID,
		Recipient: r.ID, Subscriber: r.SubscriberID}
}

// do sends a request; header is "Name: value" lines.
func (e *publicEnv) do(method, path, contentType, body string, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	for _, line := range header {
		name, value, _ := strings.Cut(line, ": ")
		req.Header.Set(name, value)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// pathOf is the path of a public URL made by campaign.Links.
func pathOf(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// alter changes one character of a token in the middle.
func alter(tok string) string {
	b := []byte(tok)
	i := len(b) / 2
	if b[i] == 'a' {
		b[i] = 'b'
	} else {
		b[i] = 'a'
	}
	return string(b)
}

func (e *publicEnv) subscription(sub store.Recipient, l store.List) store.Subscription {
	e.t.Helper()
	s, err := e.cs.GetSubscription(e.t.Context(), sub.SubscriberID, l.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}
