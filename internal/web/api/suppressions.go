package api

import (
	"io"
	"net/http"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// maxReportedRejects bounds the rejected lines an import answer lists; Rejects counts them all.
const maxReportedRejects = 1000

type suppressionView struct {
	Address   string     `json:"address"`
	Reason    string     `json:"reason"`
	Source    string     `json:"source"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

func viewSuppression(s store.Suppression) suppressionView {
	return suppressionView{Address: s.Address, Reason: string(s.Reason), Source: s.Source, CreatedAt: s.CreatedAt.UTC(),
		ExpiresAt: timeOrNil(s.Expires)}
}

// listSuppressions pages through the ledger by address: ?after=ADDRESS&limit=N.
func listSuppressions(a *API, w http.ResponseWriter, r *http.Request) error {
	limit, err := pageLimit(r)
	if err != nil {
		return err
	}
	page, err := a.cfg.Campaigns.Suppressions(r.Context(), r.URL.Query().Get("after"), limit)
	if err != nil {
		return err
	}
	out := struct {
		Suppressions []suppressionView `json:"suppressions"`
		NextAfter    string            `json:"next_after,omitempty"`
	}{Suppressions: make([]suppressionView, 0, len(page))}
	for _, s := range page {
		out.Suppressions = append(out.Suppressions, viewSuppression(s))
	}
	if len(page) == limit {
		out.NextAfter = page[len(page)-1].Address
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// suppressionInput is the body of POST /api/v1/suppressions.
type suppressionInput struct {
	Address   string     `json:"address"`
	Reason    string     `json:"reason"`
	Source    string     `json:"source"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// addSuppression suppresses one address; the source is "api" unless given.
func addSuppression(a *API, w http.ResponseWriter, r *http.Request) error {
	var in suppressionInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	reason, err := campaign.ParseReason(in.Reason)
	if err != nil {
		return err
	}
	sin := campaign.SuppressionInput{Address: in.Address, Reason: reason, Source: in.Source}
	if sin.Source == "" {
		sin.Source = "api"
	}
	if in.ExpiresAt != nil {
		sin.Expires = in.ExpiresAt.UTC()
	}
	sup, err := a.cfg.Campaigns.Suppress(r.Context(), sin)
	if err != nil {
		return err
	}
	// The ledger's row, with the time the store gave it.
	got, ok, err := a.cfg.Campaigns.IsSuppressed(r.Context(), sup.Address)
	if err != nil {
		return err
	}
	if ok {
		sup = got
	}
	a.writeJSON(w, r, http.StatusCreated, viewSuppression(sup))
	return nil
}

func removeSuppression(a *API, w http.ResponseWriter, r *http.Request) error {
	if err := a.cfg.Campaigns.Unsuppress(r.Context(), r.PathValue("address")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importView is what an import did, with the rejected lines (the first maxReportedRejects) as
// the CLI prints them.
type importView struct {
	Rows     int          `json:"rows"`
	Imported int          `json:"imported"`
	Rejects  int          `json:"rejects"`
	Rejected []rejectView `json:"rejected"`
}

type rejectView struct {
	Line    int    `json:"line"`
	Address string `json:"address"`
	Reason  string `json:"reason"`
	Detail  string `json:"detail,omitempty"`
}

// importSuppressions suppresses every address of the body (text/plain or text/csv, one
// address a line, blank lines and # comments skipped), with ?reason= (manual), ?source=
// (api) and ?expires_at= (RFC 3339; none) for all.
func importSuppressions(a *API, w http.ResponseWriter, r *http.Request) error {
	if err := requireType(r, "text/plain", "text/csv"); err != nil {
		return err
	}
	q := r.URL.Query()
	reason, err := campaign.ParseReason(q.Get("reason"))
	if err != nil {
		return err
	}
	in := campaign.SuppressionInput{Reason: reason, Source: q.Get("source")}
	if in.Source == "" {
		in.Source = "api"
	}
	if s := q.Get("expires_at"); s != "" {
		if in.Expires, err = time.Parse(time.RFC3339, s); err != nil {
			return invalid("expires_at", "expires_at %q: want an RFC 3339 time like 2026-06-01T09:00:00Z", s)
		}
	}
	return a.runImport(w, r, func(body io.Reader, opts campaign.ImportOptions) (campaign.ImportReport, error) {
		return a.cfg.Campaigns.ImportSuppressions(r.Context(), body, in, opts)
	})
}

// runImport runs one CSV import over the request's body (at most MaxImportBody) and answers its
// report: the counts, and the first maxReportedRejects rejected lines.
func (a *API) runImport(w http.ResponseWriter, r *http.Request,
	run func(body io.Reader, opts campaign.ImportOptions) (campaign.ImportReport, error)) error {
	out := importView{Rejected: []rejectView{}}
	report, err := run(http.MaxBytesReader(w, r.Body, MaxImportBody), campaign.ImportOptions{Reject: func(rej campaign.Rejection) {
		if len(out.Rejected) < maxReportedRejects {
			out.Rejected = append(out.Rejected, rejectView{Line: rej.Line, Address: rej.Address, Reason: rej.Reason, Detail: rej.Detail})
		}
	}})
	if err != nil {
		return err
	}
	out.Rows, out.Imported, out.Rejects = report.Rows, report.Imported, report.Rejects
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}
