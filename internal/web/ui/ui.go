// Package ui is posthorn's web UI: server-rendered pages (html/template, templates and CSS
// embedded from templates/ and assets/, no CDN, no JavaScript needed) on the HTTP listener,
// mounted by internal/app beside the other routes (Server.Routes). It calls the services and
// operations (websession for logins and sessions, admin's operations through AppPasswords
// and Operations, wellknown for the Apple profile), never the store.
//
// Pages: GET/POST /login (address and password), GET/POST /login/totp (the second factor, when
// the account has TOTP on), POST /logout; self-service under /account/ for every account:
// the overview with recent logins, /account/password, /account/app-passwords (a new app
// password is shown once), /account/totp (enable with a confirming code and 10 recovery codes
// shown once; disable with a code or the password), /account/mobileconfig (an Apple
// configuration profile) and POST /account/export (everything the server holds about the
// account, a zip download: Exports); /admin/ for accounts with the admin flag (posthorn user admin):
// /admin/domains (and each domain's DNS records with their live check), /admin/users (and
// each user's password, quota, admin flag, app passwords, send-as and sending limits),
// /admin/aliases, /admin/queue (and each row: retry, hold, release, delete) and /admin/spam
// (allow and block lists, a score explained), calling admin's operations through Operations
// (admin_ops.go says how their forms behave); /admin/ itself is the dashboard, and
// /admin/campaigns each campaign's numbers, with charts drawn as inline SVG (admin_dash.go,
// chart.go); /admin/trace (the message trace: a search of the mail log, and each message's
// steps, through Trace) and /admin/audit (the audit log, filtered, and its download as JSON
// lines, through AuditLog).
// Assets are under /ui/assets/, named with a hash of their content and cached for a year.
//
// How a request goes (wrap): every response gets the security headers (a strict
// Content-Security-Policy, nosniff, same-origin referrers, no-store on pages); the session
// cookie is looked up (websession.Service.Lookup) and the principal put in the request's
// context (principal(r)); every POST must carry a valid CSRF token in the form field "csrf"
// or is refused with 403 before its handler runs. The token is websession's HMAC of the
// session id ("csrf") or, before a session exists, of the short-lived login cookie
// (posthorn_login, "login"); templates write the field with {{csrfField $}}. The wrappers
// s.user(h) and s.admin(h) let a logged-in (and, for admin, an admin) principal through and
// send anyone else to /login (GET, HEAD) or answer 403 (other methods); a logged-in account
// without the admin flag gets 403 on admin pages.
//
// Cookies: posthorn_session holds the session id (32 random bytes, base64url); both cookies
// are HttpOnly, SameSite=Lax (the login cookie Strict), Path=/, and Secure unless the request
// came over plain HTTP from a loopback address (a browser on the same machine, and the tests):
// so behind a TLS-terminating proxy or on https (listen.https, where every response also carries
// Strict-Transport-Security, package web) the cookies never travel in the clear, and a
// plain-HTTP client from elsewhere cannot log in (its browser would not send them back). Each
// login gets a new session id (no fixation); logout deletes the session.
//
// Rendering: s.render(w, r, status, "name", data) executes templates/name.html within
// templates/layout.html, with the principal, the CSRF token and data (see page); s.fail shows
// an *operr.Error on the form with its field named, and anything else as a generic 500 whose
// error goes to the log. Too many failed logins (the throttling of credentials, shared with
// IMAP, POP3 and submission) answer 429 with a "too many attempts" page.
//
// Adding a page: a template templates/NAME.html that defines "content" (and "title"), a
// handler that calls s.render, and a line in Routes wrapped in s.user or s.admin.
package ui

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"

	"posthorn/internal/admin"
	"posthorn/internal/store"
	"posthorn/internal/web"
	"posthorn/internal/websession"
	"posthorn/internal/wellknown"
)

// AppPasswords are the app password operations of the self-service pages (admin.Admin).
type AppPasswords interface {
	AddAppPassword(ctx context.Context, addr, name string) (string, error)
	AppPasswords(ctx context.Context, addr string) ([]store.AppPassword, error)
	RemoveAppPassword(ctx context.Context, addr, name string) error
}

// Exports write the export of an account's own data for its owner (gdpr.Service.ExportAccount).
type Exports interface {
	ExportAccount(ctx context.Context, address string, w io.Writer) error
}

// Config is what the UI is built from.
type Config struct {
	Sessions     *websession.Service
	AppPasswords AppPasswords
	// Services are the client-facing listeners, for the Apple profile (app.ClientServices).
	Services wellknown.Services
	// Operations are what the admin pages of domains, users, aliases, the queue and spam call
	// (admin_ops.go); nil: those pages are not served. DNS is what a domain's records point
	// at (app.DNSSetup).
	Operations Operations
	DNS        admin.DNSSetup
	// Trace is the message trace of /admin/trace (admin_trace.go), Audit the audit log of
	// /admin/audit (admin_audit.go); nil: that page is not served.
	Trace Trace
	Audit AuditLog
	// Exports answer POST /account/export; nil: the page offers no export.
	Exports Exports
	Logger  *slog.Logger
	// Campaigns are what the campaign pages call (admin_dash.go); nil: they are not served.
	Campaigns Campaigns
}

// Server serves the UI's pages.
type Server struct {
	sessions *websession.Service
	apps     AppPasswords
	services wellknown.Services
	ops      Operations
	dns      admin.DNSSetup
	trace    Trace
	audit    AuditLog
	exports  Exports
	logger   *slog.Logger
	tmpl     *templates
	mailings Campaigns // the campaign service
}

// New builds the UI; it fails only if the embedded templates do not parse.
func New(cfg Config) (*Server, error) {
	t, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Server{sessions: cfg.Sessions, apps: cfg.AppPasswords, services: cfg.Services, ops: cfg.Operations, dns: cfg.DNS,
		trace: cfg.Trace, audit: cfg.Audit, exports: cfg.Exports, logger: cfg.Logger, tmpl: t, mailings: cfg.Campaigns}, nil
}

// Routes returns the UI's routes for the HTTP listener.
func (s *Server) Routes() web.Routes {
	return func(mux *http.ServeMux) {
		handle := func(pattern string, h http.HandlerFunc) { mux.Handle(pattern, s.wrap(h)) }
		handle("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/account/", http.StatusSeeOther)
		})
		handle("GET /login", s.loginPage)
		handle("POST /login", s.loginPost)
		handle("GET /login/totp", s.totpLoginPage)
		handle("POST /login/totp", s.totpLoginPost)
		handle("POST /logout", s.logout)

		handle("GET /account/{$}", s.user(s.accountPage))
		handle("GET /account/password", s.user(s.passwordPage))
		handle("POST /account/password", s.user(s.passwordPost))
		handle("GET /account/app-passwords", s.user(s.appPasswordsPage))
		handle("POST /account/app-passwords", s.user(s.appPasswordAdd))
		handle("POST /account/app-passwords/remove", s.user(s.appPasswordRemove))
		handle("GET /account/totp", s.user(s.totpPage))
		handle("POST /account/totp", s.user(s.totpPost))
		handle("GET /account/mobileconfig", s.user(s.mobileconfig))
		handle("POST /account/export", s.user(s.export))

		s.dashRoutes(handle)
		s.adminOpsRoutes(handle)
		s.adminTraceRoutes(handle)
		s.adminAuditRoutes(handle)

		mux.Handle("GET /ui/assets/", s.assets())
	}
}

// Principal is who is logged in.
type Principal struct {
	Address   string
	AccountID int64
	Admin     bool
}

type ctxKey int

const (
	sessionKey ctxKey = iota
	csrfKey
)

// session is the request's session (pending or not); nil when there is none.
func session(r *http.Request) *websession.Session {
	s, _ := r.Context().Value(sessionKey).(*websession.Session)
	return s
}

// principal is the logged-in account of the request; nil when there is none (no session, or
// one still waiting for its second factor).
func principal(r *http.Request) *Principal {
	sess := session(r)
	if sess == nil || sess.Pending {
		return nil
	}
	return &Principal{Address: sess.Account.Address, AccountID: sess.Account.ID, Admin: sess.Admin}
}

// user lets logged-in accounts through; anyone else goes to /login (GET, HEAD) or gets 403.
func (s *Server) user(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if principal(r) == nil {
			s.refuse(w, r)
			return
		}
		h(w, r)
	}
}

// admin lets accounts with the admin flag through: anyone not logged in is treated as by
// user, a logged-in account without the flag gets 403.
func (s *Server) admin(h http.HandlerFunc) http.HandlerFunc {
	return s.user(func(w http.ResponseWriter, r *http.Request) {
		if !principal(r).Admin {
			s.render(w, r, http.StatusForbidden, "forbidden", nil)
			return
		}
		h(w, r)
	})
}

// refuse answers a request that needs a login.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusForbidden, "forbidden", nil)
}

// client is the request's client for websession: the connection's address (a proxy header
// would let anyone choose their throttling count) and user agent.
func client(r *http.Request) websession.Client {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, _ := netip.ParseAddr(host)
	return websession.Client{Addr: addr.Unmap(), UserAgent: r.UserAgent()}
}

// throttled reports whether err is the throttling's refusal.
func throttled(err error) bool { return errors.Is(err, websession.ErrThrottled) }
