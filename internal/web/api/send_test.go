package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// TestSend: POST /api/v1/send queues a message per recipient and answers 201; a retry with
// the Idempotency-Key answers 200 with the same send and queues nothing more; the key used
// for another body is 409; an account token sends as its own addresses only (403 otherwise,
// naming from); bad input is 400 naming the field; suppressed addresses get nothing.
func TestSend(t *testing.T) {
	e := newAPIEnv(t)
	if _, err := e.svc.Suppress(t.Context(), campaign.SuppressionInput{Address: "gone@remote.example", Reason: store.SuppressComplaint}); err != nil {
		t.Fatal(err)
	}
	post := func(token, key string, body map[string]any) response {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequestWithContext(t.Context(), "POST", e.srv.URL+"/api/v1/send", bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		return response{status: resp.StatusCode, header: resp.Header, body: out.Bytes()}
	}
	msg := map[string]any{"from": "Shop <shop@example.org>", "to": []string{"ann@remote.example", "gone@remote.example"},
		"subject": "Order {{attr \"n\"}}", "text": "Thanks for order {{attr \"n\"}}.", "data": map[string]any{"n": 17}}
	first := post(e.admin, "k1", msg)
	var res campaign.SendResult
	e.decode(first, &res)
	if first.status != 201 || res.ID == 0 || res.Replayed || len(res.Recipients) != 2 ||
		res.Recipients[0] != (campaign.SendState{Address: "ann@remote.example", Status: "queued"}) ||
		res.Recipients[1] != (campaign.SendState{Address: "gone@remote.example", Status: "suppressed"}) {
		t.Fatalf("send = %d %s", first.status, first.body)
	}
	queued := func() int {
		q, err := e.Store.(store.QueueStore).ListQueue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return len(q)
	}
	if n := queued(); n != 1 {
		t.Fatalf("queue has %d rows", n)
	}
	retry := post(e.admin, "k1", msg)
	var again campaign.SendResult
	e.decode(retry, &again)
	if retry.status != 200 || !again.Replayed || again.ID != res.ID || queued() != 1 {
		t.Errorf("retry = %d %s, queue %d", retry.status, retry.body, queued())
	}
	other := map[string]any{"from": "shop@example.org", "to": []string{"ann@remote.example"}, "subject": "x", "text": "y"}
	if r := post(e.admin, "k1", other); r.status != 409 || errorField(t, r) != "idempotency_key" {
		t.Errorf("key reused = %d %s", r.status, r.body)
	}
	if r := post(e.account, "", other); r.status != 403 || errorField(t, r) != "from" {
		t.Errorf("account token as shop@ = %d %s", r.status, r.body)
	}
	own := map[string]any{"from": "alice@example.org", "to": []string{"bob@remote.example"}, "subject": "x", "text": "y"}
	if r := post(e.account, "", own); r.status != 201 {
		t.Errorf("account token as itself = %d %s", r.status, r.body)
	}
	for field, body := range map[string]map[string]any{
		"to":      {"from": "shop@example.org", "to": []string{}, "subject": "x", "text": "y"},
		"from":    {"from": "shop@remote.example", "to": []string{"a@remote.example"}, "subject": "x", "text": "y"},
		"subject": {"from": "shop@example.org", "to": []string{"a@remote.example"}, "text": "y"},
		"bcc":     {"from": "shop@example.org", "to": []string{"a@remote.example"}, "subject": "x", "text": "y", "bcc": "z"},
	} {
		if r := post(e.admin, "", body); r.status != 400 || errorField(t, r) != field {
			t.Errorf("%s: %d %s", field, r.status, r.body)
		}
	}
	if n := queued(); n != 2 {
		t.Errorf("queue has %d rows, want 2", n)
	}
}

func errorField(t *testing.T, r response) string {
	t.Helper()
	var body struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("error body %s: %v", r.body, err)
	}
	return body.Error.Field
}
