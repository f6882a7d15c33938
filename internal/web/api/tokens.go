package api

import (
	"net/http"
	"time"
)

// tokenView is an API token as `posthorn token list` shows it: never its secret or hash.
type tokenView struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Scope      string     `json:"scope"`
	Account    string     `json:"account,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// listTokens is `posthorn token list`: every token, revoked ones included.
func listTokens(a *API, w http.ResponseWriter, r *http.Request) error {
	ts, err := a.cfg.Tokens.List(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Tokens []tokenView `json:"tokens"`
	}{Tokens: make([]tokenView, 0, len(ts))}
	for _, t := range ts {
		out.Tokens = append(out.Tokens, tokenView{ID: t.ID, Name: t.Name, Scope: string(t.Scope), Account: t.Account,
			CreatedAt: t.CreatedAt.UTC(), LastUsedAt: timeOrNil(t.LastUsedAt), RevokedAt: timeOrNil(t.RevokedAt)})
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// revokeToken is `posthorn token revoke ID`: every later request with the token is refused
// (the token of this request too, when it revokes itself).
func revokeToken(a *API, w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	return noContent(w, a.cfg.Tokens.Revoke(r.Context(), id))
}
