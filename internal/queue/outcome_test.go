package queue

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/store"
)

// outcomeLog records what the Outcomes hook is told.
type outcomeLog struct {
	mu  sync.Mutex
	got map[int64][]Outcome // by CampaignRecipient
}

func (l *outcomeLog) hook(_ context.Context, q store.QueuedMessage, o Outcome) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got[q.CampaignRecipient] = append(l.got[q.CampaignRecipient], o)
}

func (l *outcomeLog) of(id int64) []Outcome {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Outcome(nil), l.got[id]...)
}

// ledgerRows makes a campaign whose send ledger has one pending row per address, and returns
// the rows' ids by address.
func ledgerRows(t *testing.T, st store.Store, addrs ...string) map[string]int64 {
	t.Helper()
	cs, ok := st.(store.CampaignStore)
	if !ok {
		t.Fatal("the store keeps no campaigns")
	}
	ctx := t.Context()
	l, err := cs.CreateList(ctx, store.List{Name: "news", OptIn: store.OptInSingle})
	if err != nil {
		t.Fatal(err)
	}
	var reqs []store.SubscribeRequest
	for _, a := range addrs {
		reqs = append(reqs, store.SubscribeRequest{Subscriber: store.Subscriber{Address: a}, Status: store.StatusConfirmed,
			Consent: store.Consent{At: time.Now(), Source: store.SourceCLI}})
	}
	if _, err := cs.SubscribeToList(ctx, l.ID, reqs); err != nil {
		t.Fatal(err)
	}
	c, err := cs.CreateCampaign(ctx, store.Campaign{Name: "june", Subject: "s", Text: "t", From: "news@example.org",
		ListIDs: []int64{l.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := cs.StreamRecipients(ctx, c.ID, 0, len(addrs))
	if err != nil || len(rows) != len(addrs) {
		t.Fatalf("StreamRecipients = %v, %v", rows, err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Address] = r.ID
	}
	return out
}

// TestCampaignOutcomes: the hook hears of each attempt of a campaign row with its kind and
// reply (250, 451 then expiry, 550, a null MX: 556 5.1.10), no notification goes to the sender of a
// campaign row, and ordinary rows keep theirs.
func TestCampaignOutcomes(t *testing.T) {
	port := loopbackPort(t)
	zone := remoteZone()
	zone["nomail.example."] = []string{"nomail.example. 300 IN MX 0 ."}
	h := newHarness(t, port, zone)
	startSink(t, at("127.0.0.1", port), h.env.TLSConfig, byLocalPart)
	log := &outcomeLog{got: map[int64][]Outcome{}}
	h.sched.Outcomes = log.hook
	h.sched.Lifetime = 700 * time.Millisecond
	h.sched.DelayNotice = time.Nanosecond // a delay notice would be due at the first deferral
	rows := ledgerRows(t, h.store, "ok@remote.example", "defer@remote.example", "reject@remote.example", "x@nomail.example")
	// The campaign rows come from alice, so that a notice for them would land in her INBOX.
	for addr, id := range rows {
		h.enqueue("alice@example.org", "campaign "+addr, store.Outbound{Recipient: addr, Priority: store.PriorityBulk,
			CampaignRecipient: id})
	}
	h.enqueue("alice@example.org", "personal", store.Outbound{Recipient: "reject2@remote.example"})
	start := time.Now()
	h.start()
	h.waitFor("every row settled", func() bool { return h.queueLen() == 0 })

	check := func(addr string, want ...OutcomeKind) []Outcome {
		t.Helper()
		got := log.of(rows[addr])
		var kinds []OutcomeKind
		for _, o := range got {
			kinds = append(kinds, o.Kind)
			if o.At.Before(start) || o.At.After(time.Now()) {
				t.Errorf("%s: outcome at %v", addr, o.At)
			}
		}
		if len(kinds) < len(want) || fmt.Sprint(kinds[len(kinds)-len(want):]) != fmt.Sprint(want) ||
			(len(want) == 1 && len(kinds) != 1) {
			t.Errorf("%s: outcomes %v, want %v", addr, kinds, want)
		}
		return got
	}
	if o := check("ok@remote.example", Delivered); len(o) == 1 && (o[0].Code != 250 || o[0].RemoteMTA != "mx.remote.example") {
		t.Errorf("delivered outcome %+v", o[0])
	}
	if o := check("reject@remote.example", Failed); len(o) == 1 && (o[0].Code != 550 || o[0].Enhanced != "5.1.1" ||
		!strings.Contains(o[0].Text, "no such user here")) {
		t.Errorf("failed outcome %+v", o[0])
	}
	if o := check("x@nomail.example", Failed); len(o) == 1 && (o[0].Code != 556 || o[0].Enhanced != "5.1.10") {
		t.Errorf("null MX outcome %+v", o[0])
	}
	// Deferred at least once, then expired, each with the last reply.
	deferred := check("defer@remote.example", Deferred, Expired)
	for _, o := range deferred {
		if o.Code != 451 {
			t.Errorf("deferral outcome %+v, want the 451", o)
		}
	}
	if o := deferred[0]; o.Enhanced != "4.3.0" || o.Text == "" {
		t.Errorf("first deferral %+v", o)
	}
	if o := deferred[len(deferred)-1]; o.Enhanced != "4.4.7" {
		t.Errorf("expiry %+v, want 4.4.7", o)
	}
	if len(log.of(0)) != 0 {
		t.Errorf("the hook heard of an ordinary row: %+v", log.of(0))
	}
	inbox := h.inbox(h.env.Alice)
	if len(inbox) != 1 {
		t.Fatalf("alice has %d notices, want only the one for her personal message", len(inbox))
	}
	r := parseDSN(t, inbox[0])
	if len(r.recipients) != 1 || r.recipients[0].Get("Final-Recipient") != "rfc822; reject2@remote.example" {
		t.Errorf("notice reports %v", r.recipients)
	}
	h.checkStore()
}

// TestCampaignRowsWithoutHook: with no Outcomes hook, a campaign row is bounced like any other.
func TestCampaignRowsWithoutHook(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	startSink(t, at("127.0.0.1", port), nil, byLocalPart)
	rows := ledgerRows(t, h.store, "reject@remote.example")
	h.enqueue("alice@example.org", "campaign", store.Outbound{Recipient: "reject@remote.example",
		CampaignRecipient: rows["reject@remote.example"]})
	h.start()
	h.waitFor("the notice", func() bool { return len(h.inbox(h.env.Alice)) == 1 })
}
