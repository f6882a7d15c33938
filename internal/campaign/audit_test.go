package campaign

import (
	"strings"
	"testing"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/store"
)

// TestOperationsAudited: every mutating operation of the service and the sender is in the
// audit log once it has succeeded, with the actor of its context; a refused one is not, and
// no entry holds a template's content or a consent's text.
func TestOperationsAudited(t *testing.T) {
	e := newSendEnv(t)
	ctx := audit.WithActor(t.Context(), audit.Actor{Kind: audit.KindCLI, Name: "ops"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err := e.svc.CreateList(ctx, ListInput{Name: "news"})
	must(err)
	_, err = e.svc.CreateList(ctx, ListInput{Name: "old"})
	must(err)
	must(e.svc.DeleteList(ctx, "old"))
	_, err = e.svc.SaveSubscriber(ctx, SubscriberInput{Address: "ann@example.net", List: "news", ConsentText: "I agree, privately"})
	must(err)
	_, err = e.svc.SaveSubscriber(ctx, SubscriberInput{Address: "cat@example.net", Name: "Cat"})
	must(err)
	must(e.svc.Unsubscribe(ctx, SubscriberInput{Address: "ann@example.net", List: "news"}))
	must(e.svc.DeleteSubscriber(ctx, "cat@example.net"))
	_, err = e.svc.ImportCSV(ctx, strings.NewReader("email,name\nbob@example.org,Bob\nnot an address,X\n"),
		CSVInput{List: "news", ConsentText: "I agree, privately"}, ImportOptions{})
	must(err)
	_, err = e.svc.ImportSuppressions(ctx, strings.NewReader("gone@example.net\n# a comment\nbad line\n"),
		SuppressionInput{Reason: store.SuppressManual, Source: "old system"}, ImportOptions{})
	must(err)
	_, err = e.svc.CreateTemplate(ctx, TemplateInput{Name: "june", Subject: "June", HTML: "<p>Private words</p>"})
	must(err)
	_, err = e.svc.UpdateTemplate(ctx, TemplateInput{Name: "june", Subject: "June", HTML: "<p>Other private words</p>"})
	must(err)
	c, err := e.svc.CreateCampaign(ctx, CampaignInput{Name: "June", From: "news@example.org", Lists: []string{"news"}, Template: "june"})
	must(err)
	must(e.svc.DeleteTemplate(ctx, "june"))
	_, err = e.sender.TestSend(ctx, c.ID, []string{"bob@example.org"})
	must(err)
	must(e.sender.Schedule(ctx, c.ID, time.Date(2026, 6, 2, 9, 0, 0, 0, time.UTC)))
	must(e.svc.Unschedule(ctx, c.ID))
	if err := e.svc.Resume(ctx, c.ID); err == nil {
		t.Fatal("a draft campaign resumed")
	}

	entries, err := audit.New(e.Store.(store.AuditStore)).List(t.Context(), store.AuditFilter{ActorKind: audit.KindCLI})
	must(err)
	var got []string
	for _, en := range entries {
		if en.Actor != "ops" {
			t.Errorf("entry %s: actor %q", en.Action, en.Actor)
		}
		if strings.Contains(en.Details, "private") {
			t.Errorf("entry %s holds private text: %s", en.Action, en.Details)
		}
		got = append(got, en.Action+" "+en.Target+" "+en.Details)
	}
	id := campaignTarget(c.ID)
	want := []string{
		`list.create news {"opt_in":"single"}`,
		`list.create old {"opt_in":"single"}`,
		`list.delete old `,
		`subscriber.save ann@example.net {"list":"news","source":"cli","status":"confirmed"}`,
		`subscriber.save cat@example.net `,
		`subscriber.unsubscribe ann@example.net {"list":"news","source":"cli"}`,
		`subscriber.delete cat@example.net `,
		`subscriber.import news {"imported":1,"rejected":1,"rows":2,"status":"confirmed"}`,
		`suppression.import  {"imported":1,"reason":"manual","rejected":1,"rows":2,"source":"old system"}`,
		`template.create june `,
		`template.update june `,
		`campaign.create ` + id + ` {"from":"news@example.org","lists":["news"],"name":"June","template":"june"}`,
		`template.delete june `,
		`campaign.test ` + id + ` {"asked":1,"sent_to":["bob@example.org"]}`,
		`campaign.schedule ` + id + ` {"at":"2026-06-02T09:00:00Z"}`,
		`campaign.unschedule ` + id + ` {"status":"draft"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
