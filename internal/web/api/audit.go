package api

import (
	"net/http"
	"strconv"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/mailtrace"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// auditPage is the answer of GET /api/v1/audit: entries oldest first, and the after value of
// the next page (0 when this one is the last).
type auditPage struct {
	Entries   []audit.Entry `json:"entries"`
	NextAfter int64         `json:"next_after,omitempty"`
}

// The page sizes of GET /api/v1/audit.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 1000
)

// listAudit is GET /api/v1/audit: the entries of the audit log the parameters select (the
// filters of `posthorn audit list`), a page at a time.
func listAudit(a *API, w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := store.AuditFilter{ActorKind: q.Get("actor_kind"), Actor: q.Get("actor"), Action: q.Get("action"), Target: q.Get("target")}
	if f.ActorKind != "" {
		if err := audit.CheckKind("actor_kind", f.ActorKind); err != nil {
			return err
		}
	}
	var err error
	for name, at := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		if v := q.Get(name); v != "" {
			if *at, err = mailtrace.ParseTime(name, v, a.cfg.Now()); err != nil {
				return err
			}
		}
	}
	f.Limit = auditDefaultLimit
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > auditMaxLimit {
			return operr.New(operr.Invalid, "limit", v, err, "limit %q: want a number from 1 to %d", v, auditMaxLimit)
		}
	}
	if v := q.Get("after"); v != "" {
		if f.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || f.AfterID < 0 {
			return operr.New(operr.Invalid, "after", v, err, "after %q: want the next_after of the previous page", v)
		}
	}
	log, err := a.cfg.Admin.Audit()
	if err != nil {
		return err
	}
	entries, err := log.List(r.Context(), f)
	if err != nil {
		return err
	}
	page := auditPage{Entries: make([]audit.Entry, 0, len(entries))}
	for _, e := range entries {
		page.Entries = append(page.Entries, audit.EntryJSON(e))
	}
	if len(entries) == f.Limit {
		page.NextAfter = entries[len(entries)-1].ID
	}
	a.writeJSON(w, r, http.StatusOK, page)
	return nil
}
