package ui

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

// queueMessage commits a message with one remote recipient from sender, as submission would,
// and returns its queue row's id.
func (u *testUI) queueMessage(t *testing.T, sender, recipient string) int64 {
	t.Helper()
	ctx := t.Context()
	c := delivery.New(u.env.Store, u.env.Blobs.Bodies(), u.env.Logger)
	defer c.Close()
	d, err := c.NewDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Abort()
	if _, err := io.WriteString(d, "Subject: out\r\n\r\nhello\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Commit(ctx, delivery.Message{InternalDate: time.Now(),
		Outbound: []store.Outbound{{Sender: sender, Recipient: recipient}}}); err != nil {
		t.Fatal(err)
	}
	rows, err := u.ops.ListQueue(ctx)
	if err != nil || len(rows) == 0 {
		t.Fatalf("queue: %v, %v", rows, err)
	}
	return rows[len(rows)-1].ID
}

func TestAdminQueuePages(t *testing.T) {
	u := newTestUI(t)
	// An address cannot hold markup; it can hold a quote and an ampersand. A reply can hold anything.
	id := u.queueMessage(t, "o'brien&x@example.org", "carol@remote.example")
	if err := u.env.Store.(store.QueueStore).QueueDeferred(t.Context(), id, time.Now().Add(time.Hour),
		`451 <img src=x onerror=alert(2)> try later`); err != nil {
		t.Fatal(err)
	}
	page := "/admin/queue/" + strconv.FormatInt(id, 10)
	for _, p := range []string{"/admin/queue", page} {
		resp, body := u.get(t, u.Admin, p)
		wantStatus(t, p, resp, http.StatusOK)
		wantContains(t, p, body, "carol@remote.example", "deferred", "o&#39;brien&amp;x@example.org", "451 &lt;img src=x onerror=alert(2)&gt; try later")
		if strings.Contains(body, "<img") {
			t.Fatalf("%s: markup not escaped:\n%s", p, body)
		}
	}
	resp, _ := u.postRaw(t, u.Admin, page, url.Values{"action": {"hold"}})
	wantStatus(t, "hold without CSRF", resp, http.StatusForbidden)
	for _, step := range []struct{ action, state string }{{"hold", "held"}, {"release", "deferred"}, {"retry", "deferred"}} {
		resp, _ := u.post(t, u.Admin, page, page, url.Values{"action": {step.action}})
		wantStatus(t, step.action, resp, http.StatusSeeOther)
		q, err := u.ops.GetQueued(t.Context(), id)
		if err != nil || string(q.State()) != step.state {
			t.Fatalf("after %s: %v, %v", step.action, q.State(), err)
		}
		if step.action == "retry" && q.NextAttempt.After(time.Now()) {
			t.Fatalf("after retry: next attempt %v", q.NextAttempt)
		}
	}
	resp, body := u.post(t, u.Admin, page, page, url.Values{"action": {"delete"}})
	wantStatus(t, "delete unconfirmed", resp, http.StatusBadRequest)
	wantContains(t, "delete unconfirmed", body, `data-field="confirm"`)
	resp, _ = u.post(t, u.Admin, page, page, url.Values{"action": {"delete"}, "confirm": {"yes"}})
	wantStatus(t, "delete", resp, http.StatusSeeOther)
	resp, _ = u.get(t, u.Admin, page)
	wantStatus(t, "deleted row", resp, http.StatusNotFound)
	resp, _ = u.get(t, u.Admin, "/admin/queue/abc")
	wantStatus(t, "bad id", resp, http.StatusBadRequest)
	resp, _ = u.post(t, u.Admin, "/admin/queue", "/admin/queue", url.Values{})
	wantStatus(t, "retry all", resp, http.StatusOK)
}
