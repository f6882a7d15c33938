package test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/testutil/dnstest"
)

// Parameters of TestCampaignCrash: the audience, the campaign's rate (so that sending lasts long
// enough to be interrupted) and how many rows must be queued before the kill.
const (
	campaignCrashRecipients = 10000
	campaignCrashRate       = 30000 // per minute: 500 a second, about 20 seconds in all
	campaignCrashKillAt     = 2000
)

// TestCampaignCrash starts a campaign of 10,000 recipients at a sink domain whose MX refuses
// connections (so every message stays in the queue, deferred, where it can be counted), SIGKILLs
// the server while the sender is walking the ledger, restarts it, and checks that the campaign
// finishes with every recipient queued exactly once: one queue row per address, every ledger row
// handed to the queue (queued, or deferred by the queue's outcome since), none skipped, none
// pending.
func TestCampaignCrash(t *testing.T) {
	zone := map[string][]string{
		"sink.example.":    {"sink.example. 300 IN MX 10 mx.sink.example."},
		"mx.sink.example.": {"mx.sink.example. 300 IN A 127.0.0.1"},
	}
	dns := dnstest.Start(t, zone)
	closed := freePort(t) // nothing listens there: every attempt is deferred
	s := NewServer(t, fmt.Sprintf("[dns]\nresolver = %q\n[delivery]\nport = %s\nretry_min_seconds = 3600\nretry_max_seconds = 7200\n"+
		"[limits]\nsend_per_hour = 0\nsend_per_day = 0\n[campaign]\npublic_url = \"https://news.example.org\"\n",
		dns.Addr, portOf(t, closed)))
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("", "list", "create", "news")
	var csv strings.Builder
	csv.WriteString("email,name,n\n")
	for i := range campaignCrashRecipients {
		fmt.Fprintf(&csv, "r%d@sink.example,Reader %d,%d\n", i, i, i)
	}
	people := filepath.Join(s.Dir, "people.csv")
	if err := os.WriteFile(people, []byte(csv.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	s.MustCLI("", "subscriber", "import", people, "--list", "news")
	html := filepath.Join(s.Dir, "body.html")
	if err := os.WriteFile(html, []byte(`<p>Hello {{.Name}} ({{attr "n"}}), <a href="https://example.com/x">read</a>.</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	s.MustCLI("", "campaign", "create", "crash", "--from", "news@example.org", "--list", "news",
		"--subject", "Crash {{.Name}}", "--html", html, "--rate", fmt.Sprint(campaignCrashRate))
	if out := s.MustCLI("", "campaign", "start", "1"); out != fmt.Sprintf("started campaign 1: %d recipients\n", campaignCrashRecipients) {
		t.Fatalf("start: %q", out)
	}

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log())
		}
	})
	s.Start()
	waitUntil(t, 60*time.Second, "sending under way", func() bool {
		return handed(s.ledger()) >= campaignCrashKillAt
	})
	s.Kill()
	before := s.ledger()
	if before[store.RecipientPending] == 0 {
		t.Fatalf("the campaign was sent before the kill (%v): nothing was tested", before)
	}

	s.Start()
	waitUntil(t, 300*time.Second, "the campaign finished", func() bool {
		return strings.Contains(s.MustCLI("", "campaign", "show", "1"), ": finished at ")
	})
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	after := s.ledger()
	t.Logf("killed with ledger %v; after the restart %v", before, after)
	if handed(after) != campaignCrashRecipients || after[store.RecipientPending] != 0 || after[store.RecipientSkipped] != 0 {
		t.Errorf("ledger after the restart: %v", after)
	}
	d := s.openData()
	defer d.Close()
	rows, err := d.Store.(store.QueueStore).ListQueue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	perRecipient := map[string]int{}
	for _, q := range rows {
		if q.Priority != store.PriorityBulk || !strings.HasPrefix(q.Sender, "bounce+") {
			t.Fatalf("queue row %+v", q)
		}
		perRecipient[q.Recipient]++
	}
	for i := range campaignCrashRecipients {
		if n := perRecipient[fmt.Sprintf("r%d@sink.example", i)]; n != 1 {
			t.Errorf("r%d@sink.example queued %d times", i, n)
		}
	}
	if len(rows) != campaignCrashRecipients {
		t.Errorf("%d queue rows, want %d", len(rows), campaignCrashRecipients)
	}
}

// handed counts the ledger rows handed to the queue: queued, and those the queue has tried
// since (deferred here, since the sink's MX refuses connections).
func handed(ledger map[store.RecipientState]int64) int64 {
	return ledger[store.RecipientQueued] + ledger[store.RecipientDeferred] + ledger[store.RecipientDelivered] +
		ledger[store.RecipientBounced]
}

// ledger counts campaign 1's send ledger by state, read from the data directory.
func (s *Server) ledger() map[store.RecipientState]int64 {
	s.t.Helper()
	d := s.openData()
	defer d.Close()
	stats, err := d.Store.(store.CampaignStore).CampaignStats(context.Background(), 1)
	if err != nil {
		s.t.Fatal(err)
	}
	return stats.Recipients
}
