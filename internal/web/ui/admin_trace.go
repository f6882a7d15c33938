package ui

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"posthorn/internal/mailtrace"
)

// The message trace's pages: /admin/trace searches the mail log (by sender, recipient,
// Message-ID and time, the parameters of `posthorn trace search` and GET /api/v1/trace)
// and lists the events found, newest first, a page at a time (the "older" link carries the
// search and after, the id of the page's last event); /admin/trace/{id} lays out every step
// of one message (by posthorn's id of it, or its Message-ID) in order: received, the
// filter's verdict and reasons, the mailboxes it was stored in, queued, each delivery
// attempt with its reply, bounced. The search is a GET form, so a search is a link an
// admin can keep; bad input is shown on the form with its field named.

// Trace is the message trace the admin pages search (mailtrace.Tracer).
type Trace interface {
	Search(ctx context.Context, q mailtrace.Query) (mailtrace.Found, error)
	Trace(ctx context.Context, ref string) ([]mailtrace.Step, error)
}

// adminTraceRoutes adds the trace's pages; none when the UI has no Trace.
func (s *Server) adminTraceRoutes(handle func(pattern string, h http.HandlerFunc)) {
	if s.trace == nil {
		return
	}
	handle("GET /admin/trace", s.admin(s.tracePage))
	handle("GET /admin/trace/{id}", s.admin(s.tracedPage))
}

// traceParams are the search form's fields, by name, as the trace's parameters.
var traceParams = []string{"from", "to", "msgid", "since", "until"}

type traceData struct {
	// Form is what the search form had, by field name.
	Form  map[string]string
	Found mailtrace.Found
	// Newest is the URL of the search's first page, Older that of the next page (older
	// events), "" when this page is the last.
	Newest, Older string
	// Paged tells whether this is a later page than the first.
	Paged bool
}

func (s *Server) tracePage(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	d := traceData{Form: map[string]string{}, Paged: params.Get("after") != ""}
	for _, name := range traceParams {
		d.Form[name] = params.Get(name)
	}
	q, err := mailtrace.ParseQuery(params.Get, time.Now())
	if err != nil {
		s.fail(w, r, "admin-trace", d, err)
		return
	}
	if d.Found, err = s.trace.Search(r.Context(), q); err != nil {
		s.fail(w, r, "admin-trace", d, err)
		return
	}
	search := url.Values{}
	for _, name := range append(traceParams, "limit") {
		if v := params.Get(name); v != "" {
			search.Set(name, v)
		}
	}
	d.Newest = "/admin/trace?" + search.Encode()
	if d.Found.Next != 0 {
		search.Set("after", strconv.FormatInt(d.Found.Next, 10))
		d.Older = "/admin/trace?" + search.Encode()
	}
	s.render(w, r, http.StatusOK, "admin-trace", d)
}

type tracedData struct {
	Ref   string
	Steps []mailtrace.Step
	// First is the event of the first step: the message's Message-ID, sender and size.
	First mailtrace.Event
}

func (s *Server) tracedPage(w http.ResponseWriter, r *http.Request) {
	d := tracedData{Ref: r.PathValue("id")}
	steps, err := s.trace.Trace(r.Context(), d.Ref)
	if err != nil {
		s.fail(w, r, "admin-traced", d, err)
		return
	}
	d.Steps = steps
	if len(steps) > 0 {
		d.First = steps[0].Event
	}
	s.render(w, r, http.StatusOK, "admin-traced", d)
}

// tracePath is the URL path of one message's trace.
func tracePath(ref string) string { return "/admin/trace/" + url.PathEscape(ref) }

// adminTraceFuncs are the template functions of the trace's and the audit log's pages.
func adminTraceFuncs() map[string]any {
	return map[string]any{
		"tracePath": tracePath,
		// stamp shows a time to the second, as the mail log has it.
		"stamp": func(at time.Time) string { return at.UTC().Format("2006-01-02 15:04:05 MST") },
	}
}
