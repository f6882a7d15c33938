package campaign

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/campaign/token"
	"posthorn/internal/config"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestWindowLimit: a key gets limit events per window, then none until the window has passed;
// IPv6 clients count per /64.
func TestWindowLimit(t *testing.T) {
	w := windowLimit{limit: 2, window: time.Hour}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := clientNetwork("2001:db8:1:2::1"), clientNetwork("2001:db8:1:2:ffff::9")
	if a != b || a != "2001:db8:1:2::/64" {
		t.Fatalf("/64 keys %q %q", a, b)
	}
	if clientNetwork("::ffff:192.0.2.7") != "192.0.2.7" {
		t.Errorf("mapped IPv4 key %q", clientNetwork("::ffff:192.0.2.7"))
	}
	if !w.allow(a, now) || !w.allow(b, now) || w.allow(a, now.Add(59*time.Minute)) {
		t.Error("the third event within the hour was allowed")
	}
	if !w.allow("192.0.2.7", now) {
		t.Error("another client was refused")
	}
	if !w.allow(a, now.Add(time.Hour)) {
		t.Error("refused after the window")
	}
}

// TestWindowLimitBound: at most maxLimitKeys keys are counted; a new key beyond them is
// refused until old windows expire.
func TestWindowLimitBound(t *testing.T) {
	w := windowLimit{limit: 1, window: time.Minute}
	now := time.Now()
	for i := range maxLimitKeys {
		w.allow(strconv.Itoa(i), now)
	}
	if w.allow("new", now) {
		t.Error("a key beyond the bound was counted")
	}
	if !w.allow("new", now.Add(time.Minute)) || len(w.m) != 1 {
		t.Errorf("after expiry: %d keys", len(w.m))
	}
}

// TestClickWindow: the other clicks returned are the recipient's within the burst window, and
// the number of recipients remembered is bounded.
func TestClickWindow(t *testing.T) {
	var w clickWindow
	now := time.Now()
	k := token.Recipient{Campaign: 1, Recipient: 2}
	w.add(k, 1, now.Add(-time.Minute))
	w.add(k, 2, now)
	others := w.add(k, 3, now.Add(time.Second))
	if len(others) != 1 || others[0].Link != 2 {
		t.Errorf("others = %+v, want the click of link 2 only", others)
	}
	for i := range maxClickKeys + 10 {
		w.add(token.Recipient{Campaign: 2, Recipient: int64(i)}, 1, now)
	}
	if len(w.m) > maxClickKeys {
		t.Errorf("%d recipients remembered", len(w.m))
	}
}

// TestClickRecipient reads the recipient of a click token as package token writes it.
func TestClickRecipient(t *testing.T) {
	s := token.Signer{Key: []byte(strings.Repeat("k", 32))}
	for _, r := range []int64{0, 1, 300, 1 << 40} {
		tok := s.SignClick(token.Click{Campaign: 7, Recipient: r, Link: 0}, "https://x.example/")
		if got, ok := clickRecipient(tok); !ok || got != r {
			t.Errorf("recipient %d: got %d, %v", r, got, ok)
		}
	}
	if _, ok := clickRecipient(s.SignOpen(token.Recipient{Campaign: 7, Recipient: 1})); ok {
		t.Error("an open token was read as a click")
	}
}

// TestSubscriptionID: the (subscriber, list) pair survives the Confirm token's one id.
func TestSubscriptionID(t *testing.T) {
	id, ok := subscriptionID(123456789, 1<<listIDBits-1)
	if !ok {
		t.Fatal("refused")
	}
	if s, l := splitSubscriptionID(id); s != 123456789 || l != 1<<listIDBits-1 {
		t.Errorf("split = %d, %d", s, l)
	}
	if _, ok := subscriptionID(1, 1<<listIDBits); ok {
		t.Error("a list id beyond the bits was accepted")
	}
}

// trackerEnv is a Tracker on a mail environment with a moving clock.
func trackerEnv(t *testing.T, tune func(*config.Campaign)) (*Tracker, *mailenv.Env, *fakeClock) {
	t.Helper()
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "")
	clock := &fakeClock{now: time.Now()}
	svc := &Service{Store: e.Store.(store.CampaignStore), Now: clock.Now}
	cc := config.DefaultCampaign()
	cc.PublicURL = "https://news.example.org"
	if tune != nil {
		tune(&cc)
	}
	tr := NewTracker(svc, TrackerConfig{Campaign: cc, Outbox: &Outbox{Store: e.Store, Committer: e.Committer}})
	t.Cleanup(tr.Close)
	return tr, e, clock
}

// TestConfirmationLimits: one confirmation per pending request; another once it expired; at
// most form_per_address_per_day a day whatever the list; an expired link is ErrLinkExpired.
func TestConfirmationLimits(t *testing.T) {
	tr, e, clock := trackerEnv(t, func(c *config.Campaign) { c.FormPerAddressPerDay = 2; c.ConfirmHours = 1 })
	ctx := t.Context()
	for _, name := range []string{"a", "b", "c"} {
		if _, err := tr.svc.CreateList(ctx, ListInput{Name: name, OptIn: "double"}); err != nil {
			t.Fatal(err)
		}
	}
	send := func(list string) {
		t.Helper()
		st, err := tr.Subscribe(ctx, FormRequest{List: list, Address: "bob@example.org", IP: "192.0.2.1"})
		if err != nil || st != FormPending {
			t.Fatalf("Subscribe(%s) = %v, %v", list, st, err)
		}
	}
	inbox := func() int { return len(e.Mailbox(e.Bob, "INBOX")) }
	send("a")
	send("a")
	if n := inbox(); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
	first := e.Mailbox(e.Bob, "INBOX")[0]
	clock.Add(61 * time.Minute) // the first link expired
	send("a")
	if n := inbox(); n != 2 {
		t.Fatalf("%d mails after the link expired, want 2", n)
	}
	send("b") // the address's third mail of the day
	if n := inbox(); n != 2 {
		t.Errorf("%d mails, want the per-address limit to hold at 2", n)
	}
	i := strings.Index(first, PathConfirm)
	if i < 0 {
		t.Fatalf("no link in %q", first)
	}
	tok := first[i+len(PathConfirm):]
	tok = tok[:strings.IndexFunc(tok, func(r rune) bool { return !strings.ContainsRune("abcdefghijklmnopqrstuvwxyz234567", r) })]
	if _, err := tr.ConfirmSubscription(ctx, tok, "192.0.2.1", ""); !errors.Is(err, ErrLinkExpired) {
		t.Errorf("expired link: %v", err)
	}
}

// TestTrackingOff: a campaign with tracking off records an open that names nobody; its
// unsubscribe link still works; an anonymous token cannot unsubscribe.
func TestTrackingOff(t *testing.T) {
	tr, _, _ := trackerEnv(t, nil)
	ctx := t.Context()
	l := mustList(t, tr.svc, "news", "")
	if _, err := tr.svc.SaveSubscriber(ctx, SubscriberInput{Address: "carol@remote.example", List: "news", Tracking: true}); err != nil {
		t.Fatal(err)
	}
	c, err := tr.svc.Store.CreateCampaign(ctx, store.Campaign{Name: "off", Subject: "s", Text: "t", From: "news@example.org", ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.svc.Store.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, _ := tr.svc.Store.StreamRecipients(ctx, c.ID, 0, 1)
	signer, _ := tr.signer(ctx)
	r := token.Recipient{Campaign: c.ID, Recipient: rows[0].ID}
	if err := tr.Open(ctx, signer.SignOpen(r), TrackRequest{Method: "GET", UserAgent: "Mozilla/5.0", RemoteIP: "192.0.2.9"}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Unsubscribe(ctx, signer.SignUnsubscribe(token.Recipient{Campaign: c.ID}), "192.0.2.9"); !errors.Is(err, ErrUnknownToken) {
		t.Errorf("anonymous unsubscribe: %v", err)
	}
	if err := tr.Unsubscribe(ctx, signer.SignUnsubscribe(r), ""); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	stats, err := tr.svc.Store.CampaignStats(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := stats.Events[store.EventOpen]; got.Machine != 1 || stats.UniqueOpens.Total() != 0 {
		t.Errorf("opens %+v, unique %+v: want one machine open naming nobody", got, stats.UniqueOpens)
	}
	if stats.Events[store.EventUnsubscribe].Total() != 1 {
		t.Errorf("unsubscribes %+v", stats.Events[store.EventUnsubscribe])
	}
}

// TestEventWriterFlushes: an event is recorded within the flush interval without Close.
func TestEventWriterFlushes(t *testing.T) {
	tr, _, _ := trackerEnv(t, nil)
	ctx := t.Context()
	l := mustList(t, tr.svc, "news", "")
	c, err := tr.svc.Store.CreateCampaign(ctx, store.Campaign{Name: "x", Subject: "s", Text: "t", From: "news@example.org", ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := tr.signer(ctx)
	if err := tr.Open(ctx, signer.SignOpen(token.Recipient{Campaign: c.ID}), TrackRequest{Method: "GET", UserAgent: "curl/8"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * eventFlush)
	for {
		stats, err := tr.svc.Store.CampaignStats(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if stats.Events[store.EventOpen].Total() == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the open was not recorded within 10 flush intervals")
		}
		time.Sleep(20 * time.Millisecond) // polling interval of the wait, not a fixed wait
	}
}

// TestKeepIP: track_ip decides what an event keeps; a consent record keeps at most the
// truncated address.
func TestKeepIP(t *testing.T) {
	for _, c := range []struct{ mode, ip, event, consent string }{
		{"truncated", "192.0.2.77", "192.0.2.0", "192.0.2.0"},
		{"truncated", "2001:db8:1:2::9", "2001:db8:1::", "2001:db8:1::"},
		{"full", "::ffff:192.0.2.77", "192.0.2.77", "192.0.2.0"},
		{"none", "192.0.2.77", "", ""},
		{"full", "not an address", "", ""},
	} {
		tr := &Tracker{trackIP: c.mode}
		if got := tr.keepIP(c.ip); got != c.event {
			t.Errorf("%s %s: event keeps %q, want %q", c.mode, c.ip, got, c.event)
		}
		if got := tr.consentIP(c.ip); got != c.consent {
			t.Errorf("%s %s: consent keeps %q, want %q", c.mode, c.ip, got, c.consent)
		}
	}
}
