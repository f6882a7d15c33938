package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"posthorn/internal/address"
	"posthorn/internal/store"
	"posthorn/internal/wellknown"
)

// The endpoints that set up clients and other servers for a local domain (package
// wellknown writes the documents):
//
//   - GET /.well-known/mta-sts.txt on host mta-sts.DOMAIN: the MTA-STS policy (RFC 8461 §3.3);
//   - GET /mail/config-v1.1.xml (host autoconfig.DOMAIN) and
//     GET /.well-known/autoconfig/mail/config-v1.1.xml (host DOMAIN): Thunderbird's
//     autoconfig file; the domain is the one of the emailaddress query parameter when given,
//     else the host's;
//   - POST /autodiscover/autodiscover.xml (and /Autodiscover/Autodiscover.xml, the case
//     Outlook uses): Outlook's POX autodiscover, for the address in the request.
//
// A domain that is not local, a host name that is not one of these, an address that does not
// parse: 404, or 400 for a malformed request, with nothing about the server in the answer.
// Request bodies are bounded and the XML parser expands no entities.

// LocalDomains tells the local domains (store.Store has it).
type LocalDomains interface {
	GetDomain(ctx context.Context, name string) (store.Domain, error)
}

// Setup is what the setup endpoints serve: the client-facing listeners and the MTA-STS policy.
type Setup struct {
	Services wellknown.Services
	Policy   wellknown.Policy
}

// maxAutodiscoverRequest bounds an autodiscover request body; Outlook's are a few hundred bytes.
const maxAutodiscoverRequest = 16 << 10

// SetupRoutes returns the client and server setup routes over the local domains.
func SetupRoutes(domains LocalDomains, setup Setup, logger *slog.Logger) Routes {
	h := &setupHandler{domains: domains, setup: setup, logger: logger}
	return func(mux *http.ServeMux) {
		mux.HandleFunc("GET /.well-known/mta-sts.txt", h.mtaSTS)
		mux.HandleFunc("GET /mail/config-v1.1.xml", h.autoconfig)
		mux.HandleFunc("GET /.well-known/autoconfig/mail/config-v1.1.xml", h.autoconfig)
		mux.HandleFunc("POST /autodiscover/autodiscover.xml", h.autodiscover)
		mux.HandleFunc("POST /Autodiscover/Autodiscover.xml", h.autodiscover)
	}
}

type setupHandler struct {
	domains LocalDomains
	setup   Setup
	logger  *slog.Logger
}

// requestHost is the request's host name, lower-case, without port or trailing dot.
func requestHost(r *http.Request) string {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// local returns the normalised domain when name is a local domain; ok false otherwise, and
// when the store fails (logged, and answered 503 by the caller through err).
func (h *setupHandler) local(ctx context.Context, name string) (string, bool, error) {
	d, err := address.ParseDomain(name)
	if err != nil {
		return "", false, nil
	}
	_, err = h.domains.GetDomain(ctx, d)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "", false, nil
	case err != nil:
		h.logger.Error("setup endpoint: look up domain", "domain", d, "err", err)
		return "", false, err
	}
	return d, true, nil
}

func (h *setupHandler) unavailable(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "10")
	http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
}

// mtaSTS serves the policy to senders fetching https://mta-sts.DOMAIN/.well-known/mta-sts.txt;
// RFC 8461 §3.3: media type text/plain, no redirects.
func (h *setupHandler) mtaSTS(w http.ResponseWriter, r *http.Request) {
	domain, ok := strings.CutPrefix(requestHost(r), "mta-sts.")
	if !ok {
		http.NotFound(w, r)
		return
	}
	_, ok, err := h.local(r.Context(), domain)
	if err != nil {
		h.unavailable(w)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, h.setup.Policy.Text)
}

func (h *setupHandler) autoconfig(w http.ResponseWriter, r *http.Request) {
	name := requestHost(r)
	if r.URL.Path == "/mail/config-v1.1.xml" {
		name = strings.TrimPrefix(name, "autoconfig.")
	}
	if given := r.URL.Query().Get("emailaddress"); given != "" {
		a, err := address.Parse(given)
		if err != nil {
			http.Error(w, "malformed emailaddress", http.StatusBadRequest)
			return
		}
		name = a.Domain
	}
	domain, ok, err := h.local(r.Context(), name)
	if err != nil {
		h.unavailable(w)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	doc, err := wellknown.Autoconfig(domain, h.setup.Services)
	if err != nil {
		h.logger.Error("autoconfig", "domain", domain, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeXML(w, doc)
}

func (h *setupHandler) autodiscover(w http.ResponseWriter, r *http.Request) {
	given, err := wellknown.ParseAutodiscover(http.MaxBytesReader(w, r.Body, maxAutodiscoverRequest))
	if err != nil {
		http.Error(w, "malformed autodiscover request", http.StatusBadRequest)
		return
	}
	a, err := address.Parse(given)
	if err != nil {
		http.Error(w, "malformed EMailAddress", http.StatusBadRequest)
		return
	}
	_, ok, err := h.local(r.Context(), a.Domain)
	if err != nil {
		h.unavailable(w)
		return
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	doc, err := wellknown.Autodiscover(a.String(), h.setup.Services)
	if err != nil {
		h.logger.Error("autodiscover", "address", a.String(), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	writeXML(w, doc)
}

func writeXML(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store") // the answer names the address asked about
	_, _ = w.Write(doc)
}
