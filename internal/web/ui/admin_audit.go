package ui

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/mailtrace"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The audit log's pages: /admin/audit lists the entries the filters select (the filters of
// `posthorn audit list` and GET /api/v1/audit: since, until, actor_kind, actor, action,
// target), oldest first as the log keeps them, auditPageSize at a time (the "next" link
// carries the filters and after, the id of the page's last entry); /admin/audit/export
// downloads every entry the same filters select as JSON lines, as `posthorn audit export`
// writes them. The filters are a GET form; bad input is shown on it with its field named.

// AuditLog is the audit log the admin pages show (audit.Log).
type AuditLog interface {
	List(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
	Export(ctx context.Context, w io.Writer, f store.AuditFilter) (int, error)
}

// auditPageSize is how many entries one page of /admin/audit shows.
const auditPageSize = 100

// adminAuditRoutes adds the audit log's pages; none when the UI has no AuditLog.
func (s *Server) adminAuditRoutes(handle func(pattern string, h http.HandlerFunc)) {
	if s.audit == nil {
		return
	}
	handle("GET /admin/audit", s.admin(s.auditPage))
	handle("GET /admin/audit/export", s.admin(s.auditExport))
}

// auditParams are the filter form's fields, by name.
var auditParams = []string{"since", "until", "actor_kind", "actor", "action", "target"}

// auditKinds are the choices of the actor kind filter.
var auditKinds = []string{audit.KindCLI, audit.KindAPI, audit.KindWeb, audit.KindSystem}

type auditData struct {
	// Form is what the filter form had, by field name.
	Form    map[string]string
	Kinds   []string
	Entries []store.AuditEntry
	// Export is the URL of the download of every entry the filters select; First is the
	// URL of the first page and Next that of the next page, "" when this page is the last.
	Export, First, Next string
	Paged               bool
}

// auditFilter reads the filters of params; bad input is an *operr.Error naming its field.
func auditFilter(params url.Values, now time.Time) (store.AuditFilter, error) {
	f := store.AuditFilter{ActorKind: params.Get("actor_kind"), Actor: params.Get("actor"),
		Action: params.Get("action"), Target: params.Get("target")}
	if f.ActorKind != "" {
		if err := audit.CheckKind("actor_kind", f.ActorKind); err != nil {
			return f, err
		}
	}
	var err error
	if f.Since, err = mailtrace.ParseTime("since", params.Get("since"), now); err != nil {
		return f, err
	}
	if f.Until, err = mailtrace.ParseTime("until", params.Get("until"), now); err != nil {
		return f, err
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		return f, operr.New(operr.Invalid, "until", params.Get("until"), nil,
			"until %s is not after since %s", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	if v := params.Get("after"); v != "" {
		if f.AfterID, err = strconv.ParseInt(v, 10, 64); err != nil || f.AfterID < 0 {
			return f, operr.New(operr.Invalid, "after", v, err, "after %q: want the id of an entry", v)
		}
	}
	return f, nil
}

// auditQuery is the query of params' filters, with extra set.
func auditQuery(params url.Values, extra ...string) string {
	q := url.Values{}
	for _, name := range auditParams {
		if v := params.Get(name); v != "" {
			q.Set(name, v)
		}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// auditForm is the page of params before its entries are read.
func auditForm(params url.Values) auditData {
	d := auditData{Form: map[string]string{}, Kinds: auditKinds, Paged: params.Get("after") != "",
		Export: "/admin/audit/export" + auditQuery(params), First: "/admin/audit" + auditQuery(params)}
	for _, name := range auditParams {
		d.Form[name] = params.Get(name)
	}
	return d
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	d := auditForm(params)
	f, err := auditFilter(params, time.Now())
	if err != nil {
		s.fail(w, r, "admin-audit", d, err)
		return
	}
	f.Limit = auditPageSize
	if d.Entries, err = s.audit.List(r.Context(), f); err != nil {
		s.fail(w, r, "admin-audit", d, err)
		return
	}
	if len(d.Entries) == auditPageSize {
		d.Next = "/admin/audit" + auditQuery(params, "after", strconv.FormatInt(d.Entries[len(d.Entries)-1].ID, 10))
	}
	s.render(w, r, http.StatusOK, "admin-audit", d)
}

// auditExport writes the entries the filters select as JSON lines, as a download. Bad
// filters show the audit page with the error; a failure once the download has begun can
// only end it early, and is logged.
func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	f, err := auditFilter(params, time.Now())
	if err != nil {
		s.fail(w, r, "admin-audit", auditForm(params), err)
		return
	}
	w.Header().Set("Content-Type", "application/jsonl; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="posthorn-audit-%s.jsonl"`,
		time.Now().UTC().Format("20060102T150405Z")))
	out := &writeCounter{w: w}
	if _, err := s.audit.Export(r.Context(), out, f); err != nil {
		if out.n == 0 {
			w.Header().Del("Content-Disposition")
			s.serverError(w, r, err)
			return
		}
		s.logger.Error("web UI audit export ended early", "path", r.URL.Path, "err", err)
	}
}

// writeCounter counts what is written through it.
type writeCounter struct {
	w io.Writer
	n int64
}

func (c *writeCounter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
