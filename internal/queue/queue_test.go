package queue

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"posthorn/internal/store"
)

func TestMXPreferenceOrder(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, map[string][]string{
		"remote.example.": {"remote.example. 300 IN MX 20 mx2.remote.example.",
			"remote.example. 300 IN MX 10 mx1.remote.example."},
		"mx1.remote.example.": {"mx1.remote.example. 300 IN A 127.0.0.2"},
		"mx2.remote.example.": {"mx2.remote.example. 300 IN A 127.0.0.1"},
	})
	preferred := startSink(t, at("127.0.0.2", port), h.env.TLSConfig, nil)
	backup := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.enqueue("alice@example.org", "preference", store.Outbound{Recipient: "bob@remote.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	if got := preferred.received()["bob@remote.example"]; got != 1 {
		t.Errorf("preferred MX received %d copies, want 1", got)
	}
	if backup.connections() != 0 {
		t.Errorf("backup MX got %d connections, want none", backup.connections())
	}
	if txns := preferred.transactions(); len(txns) != 1 || !txns[0].tls {
		t.Errorf("transactions %+v: want one, over opportunistic STARTTLS", txns)
	}
	h.checkStore()
}

func TestMXFallback(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, map[string][]string{
		"remote.example.": {"remote.example. 300 IN MX 10 down.remote.example.",
			"remote.example. 300 IN MX 20 up.remote.example."},
		// Nothing listens on 127.0.0.3: connection refused, then the next host.
		"down.remote.example.": {"down.remote.example. 300 IN A 127.0.0.3"},
		"up.remote.example.":   {"up.remote.example. 300 IN A 127.0.0.1"},
		// No MX: the domain's own address (RFC 5321 §5.1 implicit MX).
		"plain.example.": {"plain.example. 300 IN A 127.0.0.1"},
	})
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.enqueue("alice@example.org", "fallback", store.Outbound{Recipient: "bob@remote.example"})
	h.enqueue("alice@example.org", "implicit", store.Outbound{Recipient: "carol@plain.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	got := sink.received()
	if got["bob@remote.example"] != 1 || got["carol@plain.example"] != 1 {
		t.Errorf("received %v, want one copy each", got)
	}
	if len(h.inbox(h.env.Alice)) != 0 {
		t.Error("the sender got a notice for a delivered message")
	}
}

func TestNullMXBouncesAtOnce(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, map[string][]string{
		"nomail.example.": {"nomail.example. 300 IN MX 0 .", "nomail.example. 300 IN A 127.0.0.1"},
	})
	sink := startSink(t, at("127.0.0.1", port), nil, nil)
	h.enqueue("alice@example.org", "null mx", store.Outbound{Recipient: "bob@nomail.example"})
	h.start()
	h.waitFor("the notice", func() bool { return len(h.inbox(h.env.Alice)) == 1 })
	r := parseDSN(t, h.inbox(h.env.Alice)[0])
	if len(r.recipients) != 1 || r.recipients[0].Get("Status") != "5.1.10" || r.recipients[0].Get("Action") != "failed" {
		t.Errorf("recipient fields %v, want Action failed, Status 5.1.10", r.recipients)
	}
	if sink.connections() != 0 {
		t.Errorf("a null MX domain's address got %d connections", sink.connections())
	}
	h.waitFor("the row's removal", func() bool { return h.queueLen() == 0 })
	h.checkStore()
}

func TestTemporaryFailuresThenDeliveredOnce(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, byLocalPart)
	h.enqueue("alice@example.org", "retry", store.Outbound{Recipient: "defer2@remote.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	// Give a wrong second delivery the time to happen.
	time.Sleep(300 * time.Millisecond)
	if got := sink.received()["defer2@remote.example"]; got != 1 {
		t.Errorf("received %d copies, want exactly 1", got)
	}
	sink.mu.Lock()
	offers := sink.seen["defer2@remote.example"]
	sink.mu.Unlock()
	if offers != 3 {
		t.Errorf("recipient offered %d times, want 3 (451, 451, 250)", offers)
	}
	if len(h.inbox(h.env.Alice)) != 0 {
		t.Error("the sender got a notice for a delivered message")
	}
	h.checkStore()
}

func TestPermanentFailureNotice(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, byLocalPart)
	h.enqueue("alice@example.org", "hard bounce",
		store.Outbound{Recipient: "reject@remote.example", EnvID: "env-42", ORcpt: "rfc822;reject@remote.example"},
		store.Outbound{Recipient: "ok@remote.example"})
	h.start()
	h.waitFor("the notice", func() bool { return len(h.inbox(h.env.Alice)) == 1 })
	h.waitFor("the rows' removal", func() bool { return h.queueLen() == 0 })
	if got := sink.received(); got["ok@remote.example"] != 1 || got["reject@remote.example"] != 0 {
		t.Errorf("received %v", got)
	}
	r := parseDSN(t, h.inbox(h.env.Alice)[0])
	if r.reportParam != "delivery-status" {
		t.Errorf("report-type %q", r.reportParam)
	}
	if got := r.header.Get("To"); got != "<alice@example.org>" {
		t.Errorf("To %q", got)
	}
	if got := r.header.Get("Auto-Submitted"); got != "auto-replied" {
		t.Errorf("Auto-Submitted %q", got)
	}
	pm := r.perMessage
	if pm.Get("Reporting-Mta") != "dns; mx.example.org" || pm.Get("Original-Envelope-Id") != "env-42" ||
		pm.Get("Arrival-Date") == "" {
		t.Errorf("per-message fields %v", pm)
	}
	if len(r.recipients) != 1 {
		t.Fatalf("%d recipients reported, want only the rejected one", len(r.recipients))
	}
	rf := r.recipients[0]
	for field, want := range map[string]string{
		"Final-Recipient":    "rfc822; reject@remote.example",
		"Original-Recipient": "rfc822;reject@remote.example",
		"Action":             "failed",
		"Status":             "5.1.1",
		"Remote-Mta":         "dns; mx.remote.example",
	} {
		if got := rf.Get(field); got != want {
			t.Errorf("%s = %q, want %q", field, got, want)
		}
	}
	if d := rf.Get("Diagnostic-Code"); !strings.HasPrefix(d, "smtp; 550") || !strings.Contains(d, "no such user here") {
		t.Errorf("Diagnostic-Code %q", d)
	}
	if rf.Get("Last-Attempt-Date") == "" {
		t.Error("no Last-Attempt-Date")
	}
	if r.originalCT != "message/rfc822" || !strings.Contains(r.original, "Subject: hard bounce") ||
		!strings.Contains(r.original, "Hello.") {
		t.Errorf("original part %q: %q", r.originalCT, r.original)
	}
	if !strings.Contains(r.human, "reject@remote.example") {
		t.Errorf("human part does not name the recipient: %q", r.human)
	}
	h.checkStore()
}

func TestHeadersOnlyAndNotifyNever(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	startSink(t, at("127.0.0.1", port), nil, byLocalPart)
	h.enqueue("alice@example.org", "headers only", store.Outbound{Recipient: "reject1@remote.example", Ret: "HDRS"})
	h.enqueue("bob@example.org", "never", store.Outbound{Recipient: "reject2@remote.example", Notify: "NEVER"})
	h.start()
	h.waitFor("both rows settled", func() bool { return h.queueLen() == 0 })
	inbox := h.inbox(h.env.Alice)
	if len(inbox) != 1 {
		t.Fatalf("alice has %d notices, want 1", len(inbox))
	}
	r := parseDSN(t, inbox[0])
	if r.originalCT != "text/rfc822-headers" || !strings.Contains(r.original, "Subject: headers only") ||
		strings.Contains(r.original, "Hello.") {
		t.Errorf("RET=HDRS part %q: %q", r.originalCT, r.original)
	}
	if n := len(h.inbox(h.env.Bob)); n != 0 {
		t.Errorf("NOTIFY=NEVER sender got %d notices", n)
	}
}

func TestExpiryNotice(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	startSink(t, at("127.0.0.1", port), nil, byLocalPart)
	h.sched.Lifetime = 300 * time.Millisecond
	h.sched.DelayNotice = time.Hour
	h.enqueue("alice@example.org", "expires", store.Outbound{Recipient: "defer@remote.example"})
	h.start()
	h.waitFor("the notice", func() bool { return len(h.inbox(h.env.Alice)) == 1 })
	h.waitFor("the row's removal", func() bool { return h.queueLen() == 0 })
	r := parseDSN(t, h.inbox(h.env.Alice)[0])
	rf := r.recipients[0]
	if rf.Get("Action") != "failed" || rf.Get("Status") != "4.4.7" {
		t.Errorf("Action %q Status %q, want failed 4.4.7", rf.Get("Action"), rf.Get("Status"))
	}
	if d := rf.Get("Diagnostic-Code"); !strings.Contains(d, "451") {
		t.Errorf("Diagnostic-Code %q does not carry the last error", d)
	}
}

func TestDelayNotice(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	startSink(t, at("127.0.0.1", port), nil, byLocalPart)
	h.sched.DelayNotice = time.Nanosecond
	h.enqueue("alice@example.org", "slow", store.Outbound{Recipient: "defer@remote.example"})
	h.start()
	h.waitFor("the notice", func() bool { return len(h.inbox(h.env.Alice)) >= 1 })
	h.waitFor("more attempts", func() bool {
		all, _ := h.store.ListQueue(context.Background())
		return len(all) == 1 && all[0].Attempts >= 3
	})
	inbox := h.inbox(h.env.Alice)
	if len(inbox) != 1 {
		t.Fatalf("%d notices after several attempts, want exactly one delay notice", len(inbox))
	}
	r := parseDSN(t, inbox[0])
	rf := r.recipients[0]
	if rf.Get("Action") != "delayed" || rf.Get("Status") != "4.3.0" || rf.Get("Will-Retry-Until") == "" {
		t.Errorf("recipient fields %v", rf)
	}
	q, _ := h.store.ListQueue(context.Background())
	if !q[0].DelayNotified {
		t.Error("row not marked as notified")
	}
}

func TestNoBounceOfABounce(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), nil, byLocalPart)
	// A notice (null sender) to a remote address that rejects it.
	h.enqueue("", "a notice", store.Outbound{Recipient: "reject@remote.example"})
	h.start()
	h.waitFor("the row's removal", func() bool { return h.queueLen() == 0 })
	time.Sleep(300 * time.Millisecond)
	if n := len(sink.transactions()); n != 0 {
		t.Errorf("sink accepted %d transactions", n)
	}
	if h.queueLen() != 0 || len(h.inbox(h.env.Alice)) != 0 || len(h.inbox(h.env.Bob)) != 0 {
		t.Error("the failed notice produced another message")
	}
	h.checkStore()
}

func TestRemoteSenderNoticeIsQueued(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, map[string][]string{
		"remote.example.":    {"remote.example. 300 IN MX 10 mx.remote.example."},
		"mx.remote.example.": {"mx.remote.example. 300 IN A 127.0.0.1"},
		"sender.example.":    {"sender.example. 300 IN MX 10 mx.remote.example."},
	})
	sink := startSink(t, at("127.0.0.1", port), nil, byLocalPart)
	h.enqueue("someone@sender.example", "forwarded", store.Outbound{Recipient: "reject@remote.example"})
	h.start()
	h.waitFor("the notice at the sender's MX", func() bool { return sink.received()["someone@sender.example"] == 1 })
	txns := sink.transactions()
	if txns[0].from != "" {
		t.Errorf("notice sent from %q, want the null sender", txns[0].from)
	}
	parseDSN(t, strings.ReplaceAll(txns[0].data, "\r\n", "\n"))
}

func TestConnectionReuse(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.sched.MaxPerDestination = 1
	for i := range 20 {
		h.enqueue("alice@example.org", fmt.Sprintf("message %d", i), store.Outbound{Recipient: fmt.Sprintf("r%d@remote.example", i)})
	}
	// One message to three recipients at one destination: one transaction.
	h.enqueue("alice@example.org", "three", store.Outbound{Recipient: "a@remote.example"},
		store.Outbound{Recipient: "b@remote.example"}, store.Outbound{Recipient: "c@remote.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	txns := sink.transactions()
	if len(txns) != 21 {
		t.Errorf("%d transactions, want 21", len(txns))
	}
	if n := sink.connections(); n != 1 {
		t.Errorf("%d connections for 21 messages, want 1", n)
	}
	var multi []string
	for _, tx := range txns {
		if len(tx.rcpts) > 1 {
			multi = tx.rcpts
		}
	}
	slices.Sort(multi)
	if !slices.Equal(multi, []string{"a@remote.example", "b@remote.example", "c@remote.example"}) {
		t.Errorf("multi-recipient transaction %v", multi)
	}
}

func TestPriorityOrder(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), nil, nil)
	h.sched.MaxPerDestination = 1
	for i := range 10 {
		h.enqueue("news@example.org", fmt.Sprintf("bulk %d", i),
			store.Outbound{Recipient: fmt.Sprintf("list%d@remote.example", i), Priority: store.PriorityBulk})
	}
	h.enqueue("alice@example.org", "personal", store.Outbound{Recipient: "friend@remote.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	txns := sink.transactions()
	if len(txns) != 11 || txns[0].rcpts[0] != "friend@remote.example" {
		t.Errorf("first of %d transactions went to %v, want the person-to-person message first", len(txns), txns[0].rcpts)
	}
}

func TestRestartResumes(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), nil, nil)
	h.enqueue("alice@example.org", "held", store.Outbound{Recipient: "x@remote.example"})
	all, _ := h.store.ListQueue(context.Background())
	if err := h.store.SetQueueHeld(context.Background(), all[0].ID, true); err != nil {
		t.Fatal(err)
	}
	h.start()
	time.Sleep(300 * time.Millisecond)
	if sink.connections() != 0 {
		t.Fatal("a held message was sent")
	}
	if err := h.store.RetryQueued(context.Background(), all[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	h.waitFor("delivery after release", func() bool { return h.queueLen() == 0 })
	if sink.received()["x@remote.example"] != 1 {
		t.Error("not delivered once")
	}
}

// TestSMTPUTF8OnlyWhenNeeded: a message submitted with SMTPUTF8 but all ASCII goes to a server
// without the extension; one with a UTF-8 recipient fails with 5.6.7 (RFC 6531 §3.2).
func TestSMTPUTF8OnlyWhenNeeded(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), nil, nil, func(s *smtp.Server) { s.EnableSMTPUTF8 = false })
	h.enqueue("alice@example.org", "ascii", store.Outbound{Recipient: "bob@remote.example", SMTPUTF8: true, EightBit: true})
	h.enqueue("alice@example.org", "utf8", store.Outbound{Recipient: "jörg@remote.example", SMTPUTF8: true})
	h.start()
	h.waitFor("both settled", func() bool { return h.queueLen() == 0 })
	if got := sink.received(); got["bob@remote.example"] != 1 || len(got) != 1 {
		t.Errorf("received %v, want only the ASCII message", got)
	}
	inbox := h.inbox(h.env.Alice)
	if len(inbox) != 1 {
		t.Fatalf("%d notices, want 1", len(inbox))
	}
	if got := parseDSN(t, inbox[0]).recipients[0].Get("Status"); got != "5.6.7" {
		t.Errorf("Status %q, want 5.6.7", got)
	}
}

// TestHoldWhileInMemory: a row held (or deleted) after the scheduler read it is not sent.
func TestHoldWhileInMemory(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), nil, nil)
	h.sched.RatePerDestination = 5 // one transaction per 200 ms: the rows wait in memory
	h.sched.MaxPerDestination = 1
	for i := range 4 {
		h.enqueue("alice@example.org", fmt.Sprintf("m%d", i), store.Outbound{Recipient: fmt.Sprintf("r%d@remote.example", i)})
	}
	rows, _ := h.store.ListQueue(context.Background())
	h.start()
	h.waitFor("the first delivery", func() bool { return len(sink.transactions()) >= 1 })
	if err := h.store.SetQueueHeld(context.Background(), rows[2].ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := h.store.QueueDone(context.Background(), rows[3].ID); err != nil {
		t.Fatal(err)
	}
	h.waitFor("the rest", func() bool { return h.queueLen() == 1 })
	time.Sleep(300 * time.Millisecond)
	got := sink.received()
	if got["r2@remote.example"] != 0 || got["r3@remote.example"] != 0 || got["r1@remote.example"] != 1 {
		t.Errorf("received %v: the held and the deleted row must not be sent", got)
	}
}

// TestOpportunisticTLSFallsBackToPlain: a server that offers STARTTLS but fails the handshake
// gets the message in plain text on a new connection (no policy requires TLS).
func TestOpportunisticTLSFallsBackToPlain(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	// A TLS configuration without a certificate: STARTTLS is offered, every handshake fails.
	sink := startSink(t, at("127.0.0.1", port), &tls.Config{}, nil)
	h.enqueue("alice@example.org", "fallback", store.Outbound{Recipient: "bob@remote.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	txns := sink.transactions()
	if len(txns) != 1 || txns[0].tls {
		t.Errorf("transactions %+v, want one in plain text", txns)
	}
	if n := sink.connections(); n != 2 {
		t.Errorf("%d connections, want 2 (the failed handshake, then plain)", n)
	}
}

// TestRefusedSessionTriesNextHost: an MX host whose greeting is 554 hands over to the next one;
// when no host takes the session, the message waits for a retry instead of bouncing.
func TestRefusedSessionTriesNextHost(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, map[string][]string{
		"remote.example.": {"remote.example. 300 IN MX 10 refuses.remote.example.",
			"remote.example. 300 IN MX 20 mx.remote.example."},
		"refuses.remote.example.": {"refuses.remote.example. 300 IN A 127.0.0.2"},
		"mx.remote.example.":      {"mx.remote.example. 300 IN A 127.0.0.1"},
		"only.example.":           {"only.example. 300 IN MX 10 refuses.remote.example."},
	})
	l, err := net.Listen("tcp", at("127.0.0.2", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			fmt.Fprint(c, "554 5.3.2 not accepting mail\r\n")
			c.Close()
		}
	}()
	sink := startSink(t, at("127.0.0.1", port), nil, nil)
	h.enqueue("alice@example.org", "refused", store.Outbound{Recipient: "bob@remote.example"})
	h.enqueue("alice@example.org", "only host refuses", store.Outbound{Recipient: "carol@only.example"})
	h.start()
	// The domain whose only host refuses the session is retried, not bounced.
	h.waitFor("delivery and retries", func() bool {
		all, _ := h.store.ListQueue(context.Background())
		return len(all) == 1 && all[0].Recipient == "carol@only.example" && all[0].Attempts >= 2
	})
	if sink.received()["bob@remote.example"] != 1 || len(h.inbox(h.env.Alice)) != 0 {
		t.Errorf("received %v, %d notices: want the second MX to take it, and no bounce", sink.received(),
			len(h.inbox(h.env.Alice)))
	}
}
