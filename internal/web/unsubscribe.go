package web

import (
	"net/http"
	"strconv"
)

// unsubscribePage answers GET /u/{token}: a page with a button; it unsubscribes nobody (link
// scanners GET every link).
func (p *publicSite) unsubscribePage(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "unsubscribe", nil)
}

// unsubscribe answers POST /u/{token}, the one-click unsubscribe of RFC 8058 §3.2 (body
// "List-Unsubscribe=One-Click", as multipart/form-data or form-urlencoded) and the page's
// form: 200, also the second time.
func (p *publicSite) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if !parseForm(w, r) || r.PostFormValue("List-Unsubscribe") != "One-Click" {
		p.render(w, http.StatusBadRequest, "message", page{Title: "Bad request",
			Text: "An unsubscribe request carries List-Unsubscribe=One-Click (RFC 8058)."})
		return
	}
	if err := p.c.Unsubscribe(r.Context(), r.PathValue("token"), clientIP(r)); err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "message", page{Title: "Unsubscribed",
		Text: "You will receive no more mail from these lists."})
}

// parseForm reads a form body (urlencoded or multipart) of at most maxFormBody bytes.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	if err := r.ParseMultipartForm(maxFormBody); err != nil && err != http.ErrNotMultipart {
		return false
	}
	return true
}

// preferencesPage answers GET /p/{token}: the person's subscriptions, each with a button.
func (p *publicSite) preferencesPage(w http.ResponseWriter, r *http.Request) {
	prefs, err := p.c.Preferences(r.Context(), r.PathValue("token"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, http.StatusOK, "preferences", prefs)
}

// preferences answers POST /p/{token}: action=leave with list=ID leaves one list, action=all
// every list (and suppresses the address); then the page again.
func (p *publicSite) preferences(w http.ResponseWriter, r *http.Request) {
	tok := r.PathValue("token")
	if !parseForm(w, r) {
		p.render(w, http.StatusBadRequest, "message", page{Title: "Bad request", Text: "The form could not be read."})
		return
	}
	var err error
	switch r.PostFormValue("action") {
	case "leave":
		id, perr := strconv.ParseInt(r.PostFormValue("list"), 10, 64)
		if perr != nil {
			p.render(w, http.StatusBadRequest, "message", page{Title: "Bad request", Text: "No list was chosen."})
			return
		}
		err = p.c.LeaveList(r.Context(), tok, id, clientIP(r))
	case "all":
		err = p.c.LeaveAll(r.Context(), tok, clientIP(r))
	default:
		p.render(w, http.StatusBadRequest, "message", page{Title: "Bad request", Text: "Choose leave or all."})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.preferencesPage(w, r)
}
