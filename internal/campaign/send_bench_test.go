package campaign

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"posthorn/internal/mailauth"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// BenchmarkSend sends a campaign to an audience of remote subscribers (2,000, or
// POSTHORN_BENCH_RECIPIENTS) through the sender: per recipient a render with tracking, both
// DKIM signatures and a queue row with its ledger row, committed. It reports messages per
// second.
func BenchmarkSend(b *testing.B) {
	recipients := 2000
	if v := os.Getenv("POSTHORN_BENCH_RECIPIENTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		recipients = n
	}
	e := mailenv.NewWithPasswordHash(b, "mx.example.org", "")
	ctx := b.Context()
	if _, err := mailauth.EnsureDKIMKeys(ctx, e.Store, "example.org", time.Now()); err != nil {
		b.Fatal(err)
	}
	svc := &Service{Store: e.Store}
	if _, err := svc.CreateList(ctx, ListInput{Name: "news"}); err != nil {
		b.Fatal(err)
	}
	var file strings.Builder
	file.WriteString("email,name,city,plan\n")
	for i := range recipients {
		fmt.Fprintf(&file, "user%d@remote%d.example,User %d,City %d,gold\n", i, i%20, i, i%50)
	}
	if r, err := svc.ImportCSV(ctx, strings.NewReader(file.String()), CSVInput{List: "news", Tracking: true}, ImportOptions{}); err != nil || r.Imported != recipients {
		b.Fatalf("import: %+v, %v", r, err)
	}
	sender := &Sender{Service: svc, Outbox: &Outbox{Store: e.Store, Committer: e.Committer}, PublicURL: "https://news.example.org"}
	html := `<html><body><h1>News for {{.Name}}</h1><p>Hello {{.Name}} in {{attr "city"}}, your plan is {{attr "plan"}}.</p>` +
		`<p><a href="https://example.com/one">One</a> and <a href="https://example.com/two">two</a>.</p>` +
		`<p><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>`
	var sent int
	var elapsed time.Duration
	for i := 0; b.Loop(); i++ {
		c, err := svc.CreateCampaign(ctx, CampaignInput{Name: fmt.Sprintf("c%d", i), From: "News <news@example.org>",
			Lists: []string{"news"}, Subject: "News for {{.Name}}", HTML: html, Tracking: true})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := sender.Start(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
		active := map[int64]*run{}
		for {
			if _, err := sender.round(ctx, active); err != nil {
				b.Fatal(err)
			}
			if got, err := e.Store.GetCampaign(ctx, c.ID); err != nil {
				b.Fatal(err)
			} else if got.Status == store.CampaignFinished {
				break
			}
		}
		elapsed += time.Since(start)
		sent += recipients
	}
	b.ReportMetric(float64(sent)/elapsed.Seconds(), "msgs/s")
}
