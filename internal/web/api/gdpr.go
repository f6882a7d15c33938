package api

import (
	"net/http"
	"strings"

	"posthorn/internal/gdpr"
	"posthorn/internal/operr"
)

// gdprRequest is the body of POST /api/v1/gdpr/export and /api/v1/gdpr/erase.
type gdprRequest struct {
	Address string `json:"address"`
	DryRun  bool   `json:"dry_run"` // erase only
}

// erasureJSON is the answer of POST /api/v1/gdpr/erase, what `posthorn gdpr erase` prints.
type erasureJSON struct {
	Address   string       `json:"address"`
	DryRun    bool         `json:"dry_run"`
	Pseudonym string       `json:"pseudonym,omitempty"`
	AuditID   int64        `json:"audit_id,omitempty"`
	Parts     []gdpr.Count `json:"parts"`
}

// personal returns the GDPR service (unsupported when the API was built without one) and the
// request's body, refusing one without an address.
func (a *API) personal(w http.ResponseWriter, r *http.Request) (*gdpr.Service, gdprRequest, error) {
	var req gdprRequest
	if a.cfg.GDPR == nil {
		return nil, req, &operr.Error{Code: operr.Unsupported, Message: "this server exports and erases no personal data"}
	}
	if err := decodeJSON(w, r, &req); err != nil {
		return nil, req, err
	}
	if strings.TrimSpace(req.Address) == "" {
		return nil, req, invalid("address", "address: want the address of the person")
	}
	return a.cfg.GDPR, req, nil
}

// exportPersonal is POST /api/v1/gdpr/export: everything held about the address, as the zip
// `posthorn gdpr export` writes, streamed. A failure once the zip has begun cuts the
// connection, so that the client sees a failed transfer, not a short file.
func exportPersonal(a *API, w http.ResponseWriter, r *http.Request) error {
	svc, req, err := a.personal(w, r)
	if err != nil {
		return err
	}
	// Find first, so that an unknown or malformed address is answered as an error.
	if _, err := svc.Find(r.Context(), req.Address); err != nil {
		return err
	}
	out := &gdpr.LazyWriter{W: w, Start: func() {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Disposition", `attachment; filename="export.zip"`)
	}}
	if _, err := svc.Export(r.Context(), req.Address, out); err != nil {
		if !out.Started {
			return err
		}
		a.logger.Error("api export failed midway", "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// erasePersonal is POST /api/v1/gdpr/erase: `posthorn gdpr erase`, dry_run included.
func erasePersonal(a *API, w http.ResponseWriter, r *http.Request) error {
	svc, req, err := a.personal(w, r)
	if err != nil {
		return err
	}
	out, err := svc.Erase(r.Context(), req.Address, req.DryRun)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, erasureJSON{Address: out.Address, DryRun: out.DryRun, Pseudonym: out.Pseudonym,
		AuditID: out.AuditID, Parts: out.Parts})
	return nil
}
