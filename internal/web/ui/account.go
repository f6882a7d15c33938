package ui

import (
	"errors"
	"net/http"
	"strings"

	"posthorn/internal/gdpr"
	"posthorn/internal/operr"
	"posthorn/internal/store"
	"posthorn/internal/websession"
	"posthorn/internal/wellknown"
)

// The self-service pages of every account under /account/.

type accountData struct {
	Logins  []store.WebLogin
	TOTP    websession.TOTPState
	Profile bool // the Apple profile can be made (incoming and submission listeners exist)
	Export  bool // the account's data can be exported (Exports)
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) {
	sess := session(r)
	logins, err := s.sessions.RecentLogins(r.Context(), sess.Account.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	st, err := s.sessions.TOTP(r.Context(), *sess)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	_, perr := wellknown.MobileConfig(sess.Account.Address, s.services)
	s.render(w, r, http.StatusOK, "account", accountData{Logins: logins, TOTP: st, Profile: perr == nil,
		Export: s.exports != nil})
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "password", nil)
}

// passwordDone is the password page after a change.
type passwordDone struct{ Changed bool }

func (s *Server) passwordPost(w http.ResponseWriter, r *http.Request) {
	sess := session(r)
	next := r.PostForm.Get("new")
	if next != r.PostForm.Get("repeat") {
		s.formError(w, r, http.StatusBadRequest, "password", nil, "repeat", "The new password and its repetition differ.")
		return
	}
	err := s.sessions.ChangePassword(r.Context(), *sess, r.PostForm.Get("current"), next, client(r))
	if errors.Is(err, websession.ErrInvalid) {
		s.formError(w, r, http.StatusBadRequest, "password", nil, "current", "The current password is not right.")
		return
	}
	if err != nil {
		s.fail(w, r, "password", nil, err)
		return
	}
	s.render(w, r, http.StatusOK, "password", passwordDone{Changed: true})
}

type appPasswordsData struct {
	List []store.AppPassword
	// New is a password just created, shown this once, with its name.
	New, NewName string
}

func (s *Server) appPasswordsData(r *http.Request) (appPasswordsData, error) {
	list, err := s.apps.AppPasswords(r.Context(), principal(r).Address)
	return appPasswordsData{List: list}, err
}

func (s *Server) appPasswordsPage(w http.ResponseWriter, r *http.Request) {
	d, err := s.appPasswordsData(r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "app-passwords", d)
}

func (s *Server) appPasswordAdd(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	password, err := s.apps.AddAppPassword(r.Context(), principal(r).Address, name)
	d, lerr := s.appPasswordsData(r)
	if lerr != nil {
		s.serverError(w, r, lerr)
		return
	}
	if err != nil {
		s.fail(w, r, "app-passwords", d, err)
		return
	}
	d.New, d.NewName = password, name
	s.render(w, r, http.StatusOK, "app-passwords", d)
}

func (s *Server) appPasswordRemove(w http.ResponseWriter, r *http.Request) {
	if err := s.apps.RemoveAppPassword(r.Context(), principal(r).Address, r.PostForm.Get("name")); err != nil {
		d, lerr := s.appPasswordsData(r)
		if lerr != nil {
			s.serverError(w, r, lerr)
			return
		}
		s.fail(w, r, "app-passwords", d, err)
		return
	}
	http.Redirect(w, r, "/account/app-passwords", http.StatusSeeOther)
}

type totpData struct {
	State websession.TOTPState
	// Codes are the recovery codes just made, shown this once.
	Codes []string
}

func (s *Server) totpPage(w http.ResponseWriter, r *http.Request) {
	st, err := s.sessions.TOTP(r.Context(), *session(r))
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "totp", totpData{State: st})
}

// totpPost runs the form's action: begin (a new secret), confirm (its first code turns TOTP
// on), disable (with a code or the password).
func (s *Server) totpPost(w http.ResponseWriter, r *http.Request) {
	sess := *session(r)
	ctx := r.Context()
	var codes []string
	var err error
	switch r.PostForm.Get("action") {
	case "begin":
		err = s.sessions.BeginTOTP(ctx, sess)
	case "confirm":
		codes, err = s.sessions.ConfirmTOTP(ctx, sess, r.PostForm.Get("code"))
	case "disable":
		err = s.sessions.DisableTOTP(ctx, sess, r.PostForm.Get("proof"), client(r))
		if errors.Is(err, websession.ErrInvalid) {
			err = operr.New(operr.Invalid, "proof", "", err, "Neither a current code nor the password: two-factor authentication stays on.")
		}
	default:
		err = operr.New(operr.Invalid, "action", "", nil, "unknown action")
	}
	st, serr := s.sessions.TOTP(ctx, sess)
	if serr != nil {
		s.serverError(w, r, serr)
		return
	}
	if err != nil {
		s.fail(w, r, "totp", totpData{State: st}, err)
		return
	}
	s.render(w, r, http.StatusOK, "totp", totpData{State: st, Codes: codes})
}

// mobileconfig downloads the Apple configuration profile of the account.
func (s *Server) mobileconfig(w http.ResponseWriter, r *http.Request) {
	addr := principal(r).Address
	b, err := wellknown.MobileConfig(addr, s.services)
	if err != nil {
		http.Error(w, "this server offers no IMAP or POP3 and submission listeners to set up", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/x-apple-aspen-config")
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.NewReplacer("@", "_at_", `"`, "").Replace(addr)+`.mobileconfig"`)
	_, _ = w.Write(b)
}

// export downloads everything the server holds about the account, as a zip streamed as it is
// written. A failure before the first byte is answered as a page; after it, the connection is
// cut so that the browser reports a failed download instead of keeping a truncated file.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	if s.exports == nil {
		http.NotFound(w, r)
		return
	}
	addr := principal(r).Address
	out := &gdpr.LazyWriter{W: w, Start: func() {
		w.Header().Set("Content-Type", "application/zip")
		w.Header().Set("Content-Disposition", `attachment; filename="`+strings.NewReplacer("@", "_at_", `"`, "").Replace(addr)+`-export.zip"`)
	}}
	err := s.exports.ExportAccount(r.Context(), addr, out)
	switch {
	case err == nil:
	case !out.Started:
		s.serverError(w, r, err)
	default:
		s.logger.Error("web UI export failed midway", "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}
