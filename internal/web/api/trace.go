package api

import (
	"net/http"

	"posthorn/internal/mailtrace"
	"posthorn/internal/operr"
)

// tracer returns the message trace, or unsupported when the API was built without one.
func (a *API) tracer() (*mailtrace.Tracer, error) {
	if a.cfg.Trace == nil {
		return nil, &operr.Error{Code: operr.Unsupported, Message: "this server keeps no mail log"}
	}
	return a.cfg.Trace, nil
}

// searchTrace is GET /api/v1/trace: the query parameters of `posthorn trace search`.
func searchTrace(a *API, w http.ResponseWriter, r *http.Request) error {
	tr, err := a.tracer()
	if err != nil {
		return err
	}
	params := r.URL.Query()
	q, err := mailtrace.ParseQuery(params.Get, a.cfg.Now())
	if err != nil {
		return err
	}
	found, err := tr.Search(r.Context(), q)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, found)
	return nil
}

// traceMessage is GET /api/v1/trace/{id}: every step of one message, by id or Message-ID.
func traceMessage(a *API, w http.ResponseWriter, r *http.Request) error {
	tr, err := a.tracer()
	if err != nil {
		return err
	}
	ref := r.PathValue("id")
	steps, err := tr.Trace(r.Context(), ref)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, mailtrace.Traced{Ref: ref, Steps: steps})
	return nil
}
