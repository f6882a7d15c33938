package api

import "net/http"

// An account's spam allow and block lists: entries are addresses or "@domain" (a domain and
// its subdomains), the same as `posthorn spam allow|block`. The handlers of each list are
// made by spamList (block false: the allow list).

type spamListView struct {
	Account string   `json:"account"`
	List    string   `json:"list"`
	Entries []string `json:"entries"`
}

// spamEntryInput is the body of POST /api/v1/users/{address}/spam/allow|block.
type spamEntryInput struct {
	Entry string `json:"entry"`
}

// writeSpamList answers an account's list with status.
func (a *API) writeSpamList(w http.ResponseWriter, r *http.Request, block bool, status int) error {
	acc, err := a.cfg.Admin.Account(r.Context(), r.PathValue("address"))
	if err != nil {
		return err
	}
	entries, err := a.cfg.Admin.SpamList(r.Context(), acc.Address, block)
	if err != nil {
		return err
	}
	out := spamListView{Account: acc.Address, List: "allow", Entries: append([]string{}, entries...)}
	if block {
		out.List = "block"
	}
	a.writeJSON(w, r, status, out)
	return nil
}

func listSpamEntries(block bool) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request) error {
		return a.writeSpamList(w, r, block, http.StatusOK)
	}
}

// addSpamEntry puts an entry on the list and answers the list (201); an entry on either
// list already is 409.
func addSpamEntry(block bool) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request) error {
		var in spamEntryInput
		if err := decodeJSON(w, r, &in); err != nil {
			return err
		}
		if err := a.cfg.Admin.AddSpamListEntry(r.Context(), r.PathValue("address"), in.Entry, block); err != nil {
			return err
		}
		return a.writeSpamList(w, r, block, http.StatusCreated)
	}
}

func removeSpamEntry(block bool) handler {
	return func(a *API, w http.ResponseWriter, r *http.Request) error {
		return noContent(w, a.cfg.Admin.RemoveSpamListEntry(r.Context(), r.PathValue("address"), r.PathValue("entry"), block))
	}
}
