package api

import "net/http"

// aliasView is an alias (an address, or "@domain" for a domain's catch-all) and its targets.
type aliasView struct {
	Address string   `json:"address"`
	Targets []string `json:"targets"`
}

func listAliases(a *API, w http.ResponseWriter, r *http.Request) error {
	aliases, err := a.cfg.Admin.ListAliases(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Aliases []aliasView `json:"aliases"`
	}{Aliases: make([]aliasView, 0, len(aliases))}
	for _, al := range aliases {
		out.Aliases = append(out.Aliases, aliasView{Address: al.Address, Targets: al.Targets})
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// aliasInput is the body of POST /api/v1/aliases.
type aliasInput struct {
	Address string   `json:"address"`
	Targets []string `json:"targets"`
}

func createAlias(a *API, w http.ResponseWriter, r *http.Request) error {
	var in aliasInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	alias, targets, err := a.cfg.Admin.AddAlias(r.Context(), in.Address, in.Targets)
	if err != nil {
		return err
	}
	a.writeJSON(w, r, http.StatusCreated, aliasView{Address: alias, Targets: targets})
	return nil
}

func removeAlias(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Admin.RemoveAlias(r.Context(), r.PathValue("address")))
}
