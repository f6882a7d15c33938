package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
)

// The public endpoints of bulk mail (Campaigns): the open pixel, tracked links and the view
// in a browser (this file), unsubscribe and preferences (unsubscribe.go), the subscription
// form and its confirmation (subscribe.go). Anyone can reach them, so:
//
//   - Every token is checked by the campaign side; one that does not verify, or names nothing,
//     is campaign.ErrUnknownToken and gets 404 — except the pixel, which always answers the
//     same 43-byte transparent GIF, so that it tells nothing about a token.
//   - A tracked link redirects (302) only to the URL its token was signed for; a forged or
//     altered token gets 404, never a redirect. HEAD gets the redirect too, and counts as a
//     machine click.
//   - A GET never changes anything: GET /u/{token} and GET /s/confirm/{token} show a page with
//     a button, whose form POSTs to the same path; link scanners that follow links unsubscribe
//     and confirm nobody. The token in the path is the capability, so the forms need no CSRF
//     token: a cross-site form can only post a token its author already holds.
//   - Pages are html/template (every value escaped), with no external assets; responses carry
//     X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer (a token never leaks to a
//     link's target) and a Content-Security-Policy without scripts and with frame-ancestors
//     'none'. Request bodies are cut at maxFormBody.
//   - The client address is the connection's (RemoteAddr): a proxy header would let anyone
//     choose the address that rate limits and IP retention see.

// Campaigns is what the public endpoints call; *campaign.Tracker implements it.
type Campaigns interface {
	Open(ctx context.Context, tok string, req campaign.TrackRequest) error
	Click(ctx context.Context, tok string, req campaign.TrackRequest) (string, error)
	View(ctx context.Context, tok string) (campaign.ViewPage, error)
	Unsubscribe(ctx context.Context, tok, ip string) error
	Preferences(ctx context.Context, tok string) (campaign.Preferences, error)
	LeaveList(ctx context.Context, tok string, listID int64, ip string) error
	LeaveAll(ctx context.Context, tok, ip string) error
	FormList(ctx context.Context, name string) (campaign.FormList, error)
	Subscribe(ctx context.Context, req campaign.FormRequest) (campaign.FormStatus, error)
	PendingConfirmation(ctx context.Context, tok string) (campaign.Confirmation, error)
	ConfirmSubscription(ctx context.Context, tok, ip, consentText string) (campaign.Confirmation, error)
}

// Routes adds routes to the mux of Handler.
type Routes func(mux *http.ServeMux)

// maxFormBody bounds the body of every public POST, in bytes.
const maxFormBody = 16 << 10

// transparentGIF is a 1×1 transparent GIF89a: header, logical screen with a 2-colour table,
// a graphic control extension making colour 0 transparent, one image, the trailer.
var transparentGIF = []byte{
	'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0,
	0, 0, 0, 0xff, 0xff, 0xff,
	0x21, 0xf9, 4, 1, 0, 0, 0, 0,
	0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0,
	2, 2, 0x44, 1, 0,
	0x3b,
}

// publicSite serves the public endpoints of c.
type publicSite struct {
	c      Campaigns
	logger *slog.Logger
}

// CampaignRoutes returns the public bulk mail routes over c (see the comment above Campaigns).
func CampaignRoutes(c Campaigns, logger *slog.Logger) Routes {
	p := &publicSite{c: c, logger: logger}
	return func(mux *http.ServeMux) {
		mux.HandleFunc("GET "+campaign.PathOpen+"{file}", p.open) // GET patterns take HEAD too
		mux.HandleFunc("GET "+campaign.PathClick+"{token}", p.click)
		mux.HandleFunc("GET "+campaign.PathView+"{token}", p.view)
		mux.HandleFunc("GET "+campaign.PathUnsubscribe+"{token}", p.unsubscribePage)
		mux.HandleFunc("POST "+campaign.PathUnsubscribe+"{token}", p.unsubscribe)
		mux.HandleFunc("GET "+campaign.PathPreferences+"{token}", p.preferencesPage)
		mux.HandleFunc("POST "+campaign.PathPreferences+"{token}", p.preferences)
		mux.HandleFunc("GET "+campaign.PathSubscribe+"{list}", p.subscribePage)
		mux.HandleFunc("POST "+campaign.PathSubscribe+"{list}", p.subscribe)
		mux.HandleFunc("GET "+campaign.PathConfirm+"{token}", p.confirmPage)
		mux.HandleFunc("POST "+campaign.PathConfirm+"{token}", p.confirm)
	}
}

// clientIP is the address of the connection's peer.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func trackRequest(r *http.Request) campaign.TrackRequest {
	return campaign.TrackRequest{Method: r.Method, UserAgent: r.UserAgent(), RemoteIP: clientIP(r)}
}

// securityHeaders are set on every public response.
func securityHeaders(w http.ResponseWriter, csp string) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", csp)
	h.Set("Cache-Control", "no-store")
}

// pageCSP is the policy of posthorn's own pages: inline style only, forms to this site.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// viewCSP is the policy of a campaign message in the browser: its images and styles, never a
// script, a form or a frame.
const viewCSP = "default-src 'none'; img-src https: http: data:; style-src 'unsafe-inline' https:; font-src https: data:; " +
	"script-src 'none'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// open answers GET /t/o/{token}.gif: the same GIF whatever the token; only a valid one is
// recorded.
func (p *publicSite) open(w http.ResponseWriter, r *http.Request) {
	tok := strings.TrimSuffix(r.PathValue("file"), ".gif")
	if err := p.c.Open(r.Context(), tok, trackRequest(r)); err != nil && !errors.Is(err, campaign.ErrUnknownToken) {
		p.logger.Warn("record campaign open", "err", err)
	}
	securityHeaders(w, pageCSP)
	h := w.Header()
	h.Set("Content-Type", "image/gif")
	h.Set("Cache-Control", "no-store, no-cache, must-revalidate, max-age=0")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	_, _ = w.Write(transparentGIF)
}

// click answers GET|HEAD /t/c/{token}: 302 to the link's target, or 404.
func (p *publicSite) click(w http.ResponseWriter, r *http.Request) {
	target, err := p.c.Click(r.Context(), r.PathValue("token"), trackRequest(r))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	securityHeaders(w, pageCSP)
	w.Header().Set("Location", target)
	w.WriteHeader(http.StatusFound)
}

// view answers GET /t/v/{token}: the message as a page, without scripts.
func (p *publicSite) view(w http.ResponseWriter, r *http.Request) {
	v, err := p.c.View(r.Context(), r.PathValue("token"))
	if err != nil {
		p.fail(w, r, err)
		return
	}
	if v.HTML == nil {
		p.render(w, http.StatusOK, "view_text", v)
		return
	}
	securityHeaders(w, viewCSP)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(v.HTML)
}

// fail answers an error of the campaign side as a page: 404 for an unknown link, 410 for an
// expired confirmation, 500 (logged) otherwise.
func (p *publicSite) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, campaign.ErrUnknownToken):
		p.render(w, http.StatusNotFound, "message", page{Title: "Not found", Text: "This link is not valid."})
	case errors.Is(err, campaign.ErrLinkExpired):
		p.render(w, http.StatusGone, "message", page{Title: "Link expired",
			Text: "This confirmation link has expired. Please subscribe again to get a new one."})
	default:
		if _, ok := operr.As(err, operr.NotFound, ""); ok {
			p.render(w, http.StatusNotFound, "message", page{Title: "Not found", Text: "There is no such list."})
			return
		}
		p.logger.Error("public campaign endpoint", "route", r.Pattern, "err", err)
		p.render(w, http.StatusInternalServerError, "message", page{Title: "Error", Text: "Something went wrong. Please try again later."})
	}
}
