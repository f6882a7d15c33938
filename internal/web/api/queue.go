package api

import (
	"net/http"
	"time"

	"posthorn/internal/store"
)

// queuedView is one queued recipient, as `posthorn queue show` prints it.
type queuedView struct {
	ID          int64     `json:"id"`
	State       string    `json:"state"`
	Sender      string    `json:"sender"`
	Recipient   string    `json:"recipient"`
	Domain      string    `json:"domain"`
	Priority    string    `json:"priority"`
	Size        int64     `json:"size"`
	QueuedAt    time.Time `json:"queued_at"`
	NextAttempt time.Time `json:"next_attempt"`
	Attempts    int       `json:"attempts"`
	LastError   string    `json:"last_error"`
	Held        bool      `json:"held"`
}

func viewQueued(q store.QueuedMessage) queuedView {
	priority := "normal"
	if q.Priority == store.PriorityBulk {
		priority = "bulk"
	}
	return queuedView{ID: q.ID, State: string(q.State()), Sender: q.Sender, Recipient: q.Recipient, Domain: q.Domain,
		Priority: priority, Size: q.Size, QueuedAt: q.QueuedAt.UTC(), NextAttempt: q.NextAttempt.UTC(),
		Attempts: q.Attempts, LastError: q.LastError, Held: q.Held}
}

func listQueue(a *API, w http.ResponseWriter, r *http.Request) error {
	rows, err := a.cfg.Admin.ListQueue(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Queue []queuedView `json:"queue"`
	}{Queue: make([]queuedView, 0, len(rows))}
	for _, q := range rows {
		out.Queue = append(out.Queue, viewQueued(q))
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

func getQueued(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return a.writeQueued(w, r, id)
}

func (a *API) writeQueued(w http.ResponseWriter, r *http.Request, id int64) error {
	q, err := a.cfg.Admin.GetQueued(r.Context(), id)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewQueued(q))
	return nil
}

// deleteQueued drops a queued recipient without delivering it or notifying the sender.
func deleteQueued(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return noContent(w, a.cfg.Admin.DeleteQueued(r.Context(), id))
}

// queueAction is a POST /api/v1/queue/{id}/ACTION: it changes the row, then answers it.
func queueAction(change func(a *API, r *http.Request, id int64) error) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := change(a, r, id); err != nil {
			return err
		}
		return a.writeQueued(w, r, id)
	}
}

func retryQueued() handler {
	return queueAction(func(a *API, r *http.Request, id int64) error { return a.cfg.Admin.RetryQueued(r.Context(), id) })
}

// holdQueued holds a queued recipient (held true) or releases it.
func holdQueued(held bool) handler {
	return queueAction(func(a *API, r *http.Request, id int64) error { return a.cfg.Admin.HoldQueued(r.Context(), id, held) })
}

// retryAllQueued makes every queued recipient that is not held due now.
func retryAllQueued(a *API, w http.ResponseWriter, r *http.Request) error {
	n, err := a.cfg.Admin.RetryAllQueued(r.Context())
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, struct {
		Retried int64 `json:"retried"`
	}{Retried: n})
	return nil
}
