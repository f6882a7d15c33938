package ui

import (
	"errors"
	"net/http"
	"strings"

	"posthorn/internal/websession"
)

// loginForm is what the login page shows again after a failure.
type loginForm struct {
	Address string
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if principal(r) != nil {
		http.Redirect(w, r, "/account/", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login", loginForm{})
}

// loginPost checks the password; the session it creates replaces any the browser had.
func (s *Server) loginPost(w http.ResponseWriter, r *http.Request) {
	form := loginForm{Address: strings.TrimSpace(r.PostForm.Get("address"))}
	id, pending, err := s.sessions.Login(r.Context(), form.Address, r.PostForm.Get("password"), client(r))
	switch {
	case throttled(err):
		s.render(w, r, http.StatusTooManyRequests, "throttled", nil)
		return
	case errors.Is(err, websession.ErrInvalid):
		s.formError(w, r, http.StatusUnauthorized, "login", form, "password", "The address or the password is not right.")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	if old := session(r); old != nil {
		if err := s.sessions.Logout(r.Context(), old.ID); err != nil {
			s.logger.Warn("earlier web session not ended", "err", err)
		}
	}
	s.setSession(w, r, id)
	s.clearCookie(w, r, loginCookie)
	if pending {
		http.Redirect(w, r, "/login/totp", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/account/", http.StatusSeeOther)
}

// pending is the request's session waiting for its second factor, or nil.
func pending(r *http.Request) *websession.Session {
	if sess := session(r); sess != nil && sess.Pending {
		return sess
	}
	return nil
}

func (s *Server) totpLoginPage(w http.ResponseWriter, r *http.Request) {
	if pending(r) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "login-totp", nil)
}

// totpLoginPost checks the second factor and replaces the pending session by a full one.
func (s *Server) totpLoginPost(w http.ResponseWriter, r *http.Request) {
	sess := pending(r)
	if sess == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	id, err := s.sessions.SecondFactor(r.Context(), sess.ID, r.PostForm.Get("code"), client(r))
	switch {
	case throttled(err):
		s.render(w, r, http.StatusTooManyRequests, "throttled", nil)
		return
	case errors.Is(err, websession.ErrNoSession):
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	case errors.Is(err, websession.ErrInvalid):
		s.formError(w, r, http.StatusUnauthorized, "login-totp", nil, "code", "The code is not right, or it was used already.")
		return
	case err != nil:
		s.serverError(w, r, err)
		return
	}
	s.setSession(w, r, id)
	http.Redirect(w, r, "/account/", http.StatusSeeOther)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if sess := session(r); sess != nil {
		if err := s.sessions.Logout(r.Context(), sess.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	s.clearCookie(w, r, sessionCookie)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}
