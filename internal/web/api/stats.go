package api

import (
	"net/http"

	"posthorn/internal/admin"
)

// stats is GET /api/v1/stats?hours=N: the dashboard's numbers per hour (admin.Stats) of the
// last N hours (1 to 720, default 24), as the web UI's dashboard charts them.
func stats(a *API, w http.ResponseWriter, r *http.Request) error {
	hours, err := admin.ParseStatsHours(r.URL.Query().Get("hours"))
	if err != nil {
		return err
	}
	st, err := a.cfg.Admin.Stats(r.Context(), hours, a.cfg.Now())
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, st)
	return nil
}
