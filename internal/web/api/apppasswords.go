package api

import (
	"net/http"
	"time"
)

// appPasswordView is an app password by name; its secret is shown once, in the answer of
// the POST that creates it (newAppPasswordView), and never again.
type appPasswordView struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

type newAppPasswordView struct {
	appPasswordView
	Password string `json:"password"`
}

func listAppPasswords(a *API, w http.ResponseWriter, r *http.Request) error {
	list, err := a.cfg.Admin.AppPasswords(r.Context(), r.PathValue("address"))
	if err != nil {
		return err
	}
	out := struct {
		AppPasswords []appPasswordView `json:"app_passwords"`
	}{AppPasswords: make([]appPasswordView, 0, len(list))}
	for _, p := range list {
		out.AppPasswords = append(out.AppPasswords, appPasswordView{Name: p.Name, CreatedAt: p.CreatedAt.UTC()})
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// appPasswordInput is the body of POST /api/v1/users/{address}/app-passwords.
type appPasswordInput struct {
	Name string `json:"name"`
}

func createAppPassword(a *API, w http.ResponseWriter, r *http.Request) error {
	var in appPasswordInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	addr := r.PathValue("address")
	password, err := a.cfg.Admin.AddAppPassword(r.Context(), addr, in.Name)
	if err != nil {
		return err
	}
	out := newAppPasswordView{appPasswordView: appPasswordView{Name: in.Name}, Password: password}
	// The stored row's creation time.
	list, err := a.cfg.Admin.AppPasswords(r.Context(), addr)
	if err != nil {
		return err
	}
	for _, p := range list {
		if p.Name == in.Name {
			out.CreatedAt = p.CreatedAt.UTC()
		}
	}
	a.writeJSON(w, r, http.StatusCreated, out)
	return nil
}

func removeAppPassword(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Admin.RemoveAppPassword(r.Context(), r.PathValue("address"), r.PathValue("name")))
}
