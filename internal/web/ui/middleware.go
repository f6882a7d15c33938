package ui

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"net/http"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/websession"
)

// Cookie names.
const (
	sessionCookie = "posthorn_session"
	loginCookie   = "posthorn_login"
	// loginCookieAge is how long a login form's pre-session cookie lasts.
	loginCookieAge = 15 * time.Minute
	// maxForm bounds a form's body.
	maxForm = 64 << 10
)

// contentSecurityPolicy lets pages load only the server's own assets, and no one frame them.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"

// wrap is every UI request's frame: security headers, the session, the CSRF check of POSTs.
func (s *Server) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Cache-Control", "no-store")
		ctx := r.Context()
		if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
			sess, err := s.sessions.Lookup(ctx, c.Value)
			switch {
			case err == nil:
				ctx = context.WithValue(ctx, sessionKey, &sess)
				if !sess.Pending {
					ctx = audit.WithActor(ctx, audit.Actor{Kind: audit.KindWeb, Name: sess.Account.Address})
				}
			case errors.Is(err, websession.ErrNoSession):
				s.clearCookie(w, r, sessionCookie)
			default:
				s.serverError(w, r, err)
				return
			}
		}
		r = r.WithContext(ctx)
		token, err := s.csrfToken(w, r)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), csrfKey, token))
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", http.StatusBadRequest)
				return
			}
			if !s.validCSRF(r) {
				s.logger.Warn("web form refused: bad CSRF token", "path", r.URL.Path, "remote", r.RemoteAddr)
				s.render(w, r, http.StatusForbidden, "forbidden", nil)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// csrfToken is the token of the request's forms: of the session, or, without one, of the
// login cookie (set here when missing, so that the login form's token has something to be
// bound to).
func (s *Server) csrfToken(w http.ResponseWriter, r *http.Request) (string, error) {
	if sess := session(r); sess != nil {
		return s.sessions.Token(r.Context(), "csrf", sess.ID)
	}
	c, err := r.Cookie(loginCookie)
	value := ""
	if err == nil {
		value = c.Value
	}
	if value == "" {
		if r.Method == http.MethodPost {
			return "", nil // no cookie, no valid token
		}
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		value = base64.RawURLEncoding.EncodeToString(b)
		http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: value, Path: "/", MaxAge: int(loginCookieAge / time.Second),
			HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
	}
	return s.sessions.Token(r.Context(), "login", value)
}

// validCSRF checks the form's csrf field against the request's token.
func (s *Server) validCSRF(r *http.Request) bool {
	want, _ := r.Context().Value(csrfKey).(string)
	got := r.PostForm.Get("csrf")
	return want != "" && got != "" && len(got) == len(want) && constantTimeEqual(got, want)
}

// setSession gives the browser the session id, replacing any earlier one.
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, id string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(websession.AbsoluteTimeout / time.Second)})
}

func (s *Server) clearCookie(w http.ResponseWriter, r *http.Request, name string) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteLaxMode})
}

// secure tells whether cookies get the Secure flag: always, except over plain HTTP from a
// loopback address (see the package doc).
func secure(r *http.Request) bool {
	return r.TLS != nil || !client(r).Addr.IsLoopback()
}
