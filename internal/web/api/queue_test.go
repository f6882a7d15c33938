package api

import (
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

// queueMessage commits a message for two remote recipients and returns their queue ids.
func (e *apiEnv) queueMessage() []int64 {
	e.t.Helper()
	ctx := e.t.Context()
	w, err := e.Committer.NewDraft(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	defer w.Abort()
	if _, err := io.WriteString(w, "Subject: out\r\n\r\nto two\r\n"); err != nil {
		e.t.Fatal(err)
	}
	m := delivery.Message{InternalDate: time.Now(), Outbound: []store.Outbound{
		{Sender: "alice@example.org", Recipient: "carol@remote.example"},
		{Sender: "alice@example.org", Recipient: "dave@remote.example"}}}
	if _, err := w.Commit(ctx, m); err != nil {
		e.t.Fatal(err)
	}
	rows, err := e.ops.ListQueue(ctx)
	if err != nil || len(rows) != 2 {
		e.t.Fatalf("queue: %v %v", rows, err)
	}
	return []int64{rows[0].ID, rows[1].ID}
}

func TestQueueRoutes(t *testing.T) {
	e := newAPIEnv(t)
	ids := e.queueMessage()
	var list struct{ Queue []queuedView }
	e.decode(e.call("GET", "/api/v1/queue", nil, http.StatusOK), &list)
	if len(list.Queue) != 2 || list.Queue[0].Recipient != "carol@remote.example" || list.Queue[0].State != "ready" ||
		list.Queue[0].Domain != "remote.example" || list.Queue[0].Priority != "normal" {
		t.Fatalf("queue = %+v", list)
	}
	one := fmt.Sprintf("/api/v1/queue/%d", ids[0])
	var q queuedView
	e.decode(e.call("POST", one+"/hold", nil, http.StatusOK), &q)
	if q.State != "held" || !q.Held {
		t.Errorf("held = %+v", q)
	}
	e.decode(e.call("POST", one+"/release", nil, http.StatusOK), &q)
	if q.State != "ready" || q.Held {
		t.Errorf("released = %+v", q)
	}
	// Both failed once: a retry makes them due now again.
	qs := e.Store.(store.QueueStore)
	for _, id := range ids {
		if err := qs.QueueDeferred(t.Context(), id, time.Now().Add(time.Hour), "451 try later"); err != nil {
			t.Fatal(err)
		}
	}
	e.call("POST", one+"/hold", nil, http.StatusOK)
	var retried struct{ Retried int64 }
	e.decode(e.call("POST", "/api/v1/queue/retry", nil, http.StatusOK), &retried)
	if retried.Retried != 1 {
		t.Errorf("retried %d, want the one not held", retried.Retried)
	}
	e.decode(e.call("POST", one+"/retry", nil, http.StatusOK), &q)
	if q.Held || q.NextAttempt.After(time.Now()) || q.Attempts != 1 || q.LastError != "451 try later" {
		t.Errorf("retried = %+v", q)
	}
	e.decode(e.call("GET", one, nil, http.StatusOK), &q)
	if q.ID != ids[0] || q.State != "deferred" {
		t.Errorf("get = %+v", q)
	}
	e.call("DELETE", one, nil, http.StatusNoContent)
	e.wantError("deleted", e.do("GET", one, e.admin, "", nil), http.StatusNotFound, "not_found", "id")
	for _, path := range []string{one + "/retry", one + "/hold", one + "/release"} {
		e.wantError(path, e.do("POST", path, e.admin, "", nil), http.StatusNotFound, "not_found", "id")
	}
	e.wantError("delete again", e.do("DELETE", one, e.admin, "", nil), http.StatusNotFound, "not_found", "id")
	e.wantError("bad id", e.do("GET", "/api/v1/queue/x", e.admin, "", nil), http.StatusBadRequest, "invalid", "id")
	e.wantError("account token", e.do("POST", "/api/v1/queue/retry", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}
