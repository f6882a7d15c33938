package api

import (
	"net/http"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/store"
)

type userView struct {
	Address   string    `json:"address"`
	CreatedAt time.Time `json:"created_at"`
	// QuotaBytes is the account's own quota: 0 none, -1 the server's default.
	QuotaBytes int64 `json:"quota_bytes"`
	// LegalHold: retention removes nothing of the account (admin.SetLegalHold).
	LegalHold bool `json:"legal_hold"`
	// Admin: the account may use the web UI's admin pages (admin.SetWebAdmin).
	Admin bool `json:"admin"`
}

func viewUser(acc store.Account, held, webAdmin bool) userView {
	return userView{Address: acc.Address, CreatedAt: acc.CreatedAt.UTC(), QuotaBytes: acc.QuotaBytes, LegalHold: held,
		Admin: webAdmin}
}

// listUsers lists the accounts, of one domain with ?domain=.
func listUsers(a *API, w http.ResponseWriter, r *http.Request) error {
	accounts, err := a.cfg.Admin.ListAccounts(r.Context(), r.URL.Query().Get("domain"))
	if err != nil {
		return err
	}
	holds, err := a.cfg.Admin.LegalHolds(r.Context())
	if err != nil {
		return err
	}
	admins, err := a.cfg.Admin.WebAdmins(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Users []userView `json:"users"`
	}{Users: make([]userView, 0, len(accounts))}
	for _, acc := range accounts {
		_, held := holds[acc.ID]
		out.Users = append(out.Users, viewUser(acc, held, admins[acc.ID]))
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// userInput is the body of POST /api/v1/users.
type userInput struct {
	Address  string `json:"address"`
	Password string `json:"password"`
}

func createUser(a *API, w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	acc, err := a.cfg.Admin.AddAccount(r.Context(), in.Address, in.Password)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusCreated, viewUser(acc, false, false))
	return nil
}

func getUser(a *API, w http.ResponseWriter, r *http.Request) error {
	return a.writeUser(w, r, r.PathValue("address"))
}

func (a *API) writeUser(w http.ResponseWriter, r *http.Request, addr string) error {
	acc, err := a.cfg.Admin.Account(r.Context(), addr)
	if err != nil {
		return err
	}
	holds, err := a.cfg.Admin.LegalHolds(r.Context())
	if err != nil {
		return err
	}
	_, held := holds[acc.ID]
	admins, err := a.cfg.Admin.WebAdmins(r.Context())
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewUser(acc, held, admins[acc.ID]))
	return nil
}

// legalHoldInput is the body of PUT /api/v1/users/{address}/legal-hold. A missing hold is an
// error, not "lift it".
type legalHoldInput struct {
	Hold *bool `json:"hold"`
}

// setLegalHold puts an account under legal hold or lifts it, and answers the account.
func setLegalHold(a *API, w http.ResponseWriter, r *http.Request) error {
	var in legalHoldInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.Hold == nil {
		return invalid("hold", "hold is required: true puts the account under legal hold, false lifts it")
	}
	addr := r.PathValue("address")
	if err := a.cfg.Admin.SetLegalHold(r.Context(), addr, *in.Hold); err != nil {
		return err
	}
	return a.writeUser(w, r, addr)
}

// removeUser deletes an account with its mailboxes and messages.
func removeUser(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Admin.RemoveAccount(r.Context(), r.PathValue("address")))
}

// passwordInput is the body of PUT /api/v1/users/{address}/password.
type passwordInput struct {
	Password string `json:"password"`
}

func setUserPassword(a *API, w http.ResponseWriter, r *http.Request) error {
	var in passwordInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	return noContent(w, a.cfg.Admin.SetPassword(r.Context(), r.PathValue("address"), in.Password))
}

type quotaView struct {
	Address string `json:"address"`
	// QuotaBytes: 0 none, -1 the server's default.
	QuotaBytes int64 `json:"quota_bytes"`
	UsedBytes  int64 `json:"used_bytes"`
	Messages   int64 `json:"messages"`
}

func getQuota(a *API, w http.ResponseWriter, r *http.Request) error {
	return a.writeQuota(w, r, r.PathValue("address"))
}

func (a *API) writeQuota(w http.ResponseWriter, r *http.Request, addr string) error {
	q, err := a.cfg.Admin.Quota(r.Context(), addr)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusOK, viewQuota(q))
	return nil
}

func viewQuota(q admin.Quota) quotaView {
	return quotaView{Address: q.Address, QuotaBytes: q.QuotaBytes, UsedBytes: q.UsedBytes, Messages: q.Messages}
}

// quotaInput is the body of PUT /api/v1/users/{address}/quota: octets, 0 for none, -1 for
// the server's default. A missing quota_bytes is an error, not "none".
type quotaInput struct {
	QuotaBytes *int64 `json:"quota_bytes"`
}

func setQuota(a *API, w http.ResponseWriter, r *http.Request) error {
	var in quotaInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if in.QuotaBytes == nil {
		return invalid("quota_bytes", "quota_bytes is required: octets, 0 for none, -1 for the server's default")
	}
	addr := r.PathValue("address")
	if err := a.cfg.Admin.SetQuota(r.Context(), addr, *in.QuotaBytes); err != nil {
		return err
	}
	return a.writeQuota(w, r, addr)
}
