// Package api is posthorn's JSON API under /api/v1/, served on the HTTP listener (mounted by
// Routes, as web.CampaignRoutes is). It calls the same operations as the command line — the
// campaign service and sender for bulk mail, admin's tokens, and admin.Admin for domains,
// users (passwords, quotas, legal holds, app passwords, send-as addresses, sending limits,
// spam allow and block lists), aliases and the outbound queue — and never the store directly.
//
// How a request goes:
//
//   - routeTable is the one list of routes: it registers the handlers on the package's own
//     ServeMux, and the test compares it with the paths and methods of openapi.json (served
//     at GET /api/v1/openapi.json, without a token).
//   - A request that matches no route gets 404, one with a method its path does not take
//     405 with Allow; both in the error shape below.
//   - Every other route wants "Authorization: Bearer ph_..." (RFC 6750 §2.1). A missing
//     token gets 401 with WWW-Authenticate: Bearer realm="posthorn"; a bad one (malformed,
//     unknown, wrong secret, revoked: the same answer) 401 with error="invalid_token"; a token
//     whose scope the route does not allow 403 with error="insufficient_scope" (RFC 6750 §3.1).
//     Admin tokens may use every route; account tokens only the send route (access anyToken,
//     POST /api/v1/send), and only with a From address of their account (store.MaySendAs).
//   - Failed token checks are counted per client (an IPv4 address, an IPv6 /64): after
//     MaxFailures within FailureWindow its requests get 429 with Retry-After until the window
//     ends, before any token is checked.
//   - Request bodies are bounded (MaxBody, MaxImportBody for the suppression and subscriber
//     imports, Config.MaxMessage for spam explain: 413 beyond), JSON bodies must be application/json and are decoded strictly (an unknown
//     field is an error).
//   - Every error is {"error": {"code": "...", "message": "...", "field": "..."}}: an
//     *operr.Error gives its code, message and field with the status of its code (invalid
//     400, forbidden 403, not_found 404, exists and in_use 409, unsupported 501); the API's
//     own codes are unauthorized 401, forbidden 403, method_not_allowed 405, too_large 413,
//     unsupported_media_type 415, too_many_requests 429; anything else is 500 "internal"
//     with a generic message, and the error goes to the log.
//
// Responses are application/json, indented by two spaces. GET /api/v1/campaigns/{id}/stats
// is byte for byte what `posthorn campaign stats ID --json` prints (campaign.WriteStatsJSON);
// GET /api/v1/trace and /api/v1/trace/{id} (the message trace, package mailtrace) take the
// parameters of `posthorn trace search` and answer what `trace search|show --json` prints.
// GET /api/v1/audit lists the audit log (package audit) with the filters of `posthorn audit
// list`, a page at a time (limit, after = the previous page's next_after). GET
// /api/v1/stats?hours=N answers the web UI dashboard's numbers per hour (admin.Stats). POST
// /api/v1/gdpr/export answers the zip of `posthorn gdpr export` for {"address": ...}, POST
// /api/v1/gdpr/erase does `posthorn gdpr erase` ("dry_run": true to only count) and answers
// what went, part by part, with the pseudonym (package gdpr).
//
// The administrative routes answer 201 with the new resource on create, 204 on delete, 404
// for an unknown name, 409 when it exists or is in use. GET /api/v1/domains/{name} gives the
// domain's DKIM keys (their public records, never the private keys) and the DNS records
// `posthorn domain dns` prints (admin.DNSRecords, with Config.DNS); an app password's secret
// is in the answer of the POST that creates it only. The queue actions (retry, hold,
// release) answer the row as it is after them; POST /api/v1/queue/retry retries every row
// not held and counts them.
//
// The rest of the command line, route for command: templates (GET, POST /api/v1/templates,
// GET, PUT, DELETE /api/v1/templates/{name}: `template list|add|show|add --replace|remove`);
// POST /api/v1/campaigns, PUT and DELETE /campaigns/{id}, POST /campaigns/{id}/test and
// /campaigns/{id}/schedule (`campaign create|update|delete|test`, `campaign start --at`); GET and DELETE /api/v1/lists/{id} (counts;
// `list delete`), POST /lists/{id}/import (the CSV of `subscriber import` as a text/csv body,
// MaxImportBody at most), GET /lists/{id}/export (`subscriber export`), DELETE
// /lists/{id}/subscribers/{address} (`subscriber remove --list`); GET, PUT (create, or replace
// name and attributes) and DELETE /api/v1/subscribers/{address}; PUT
// /api/v1/users/{address}/admin (`user admin`); GET /api/v1/domains/{name}/dns-check (`domain
// dns --check`, through Admin.Resolver); POST /api/v1/spam/explain (`spam explain`, the
// message as a message/rfc822 body of at most Config.MaxMessage, spooled to a temporary file);
// GET /api/v1/check (`check` without --repair), POST /api/v1/retention/run (`retention
// run`), GET /api/v1/tokens and DELETE /api/v1/tokens/{id} (`token list|revoke`).
//
// Left to the command line: what works on the server machine's files or process (serve,
// init, config, backup, restore, import, spam train, which reads corpora from server
// paths), `check --repair` (it deletes bodies nothing references yet, which while the server
// runs includes those of deliveries about to commit) and `token create` (tokens are how one
// gets to the API).
package api

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/audit"
	"posthorn/internal/campaign"
	"posthorn/internal/gdpr"
	"posthorn/internal/mailtrace"
	"posthorn/internal/operr"
	"posthorn/internal/retention"
	"posthorn/internal/store"
)

// Body limits, in bytes.
const (
	// MaxBody bounds a JSON request body.
	MaxBody = 1 << 20
	// MaxImportBody bounds the list of addresses of a suppression import.
	MaxImportBody = 64 << 20
)

// Throttling defaults of failed token checks.
const (
	DefaultMaxFailures   = 10
	DefaultFailureWindow = 15 * time.Minute
)

//go:embed openapi.json
var openAPIDocument []byte

// Tokens verifies the bearer tokens of requests, and lists and revokes them for the token
// routes (admin.Tokens).
type Tokens interface {
	Verify(ctx context.Context, presented string) (store.APIPrincipal, error)
	List(ctx context.Context) ([]store.APIToken, error)
	Revoke(ctx context.Context, id int64) error
}

// Config is what the API is built from; Tokens, Campaigns, Sender and Admin are required.
type Config struct {
	Tokens    Tokens
	Campaigns *campaign.Service
	// Sender starts campaigns (the check, then the send ledger); the server's send loop sends
	// them.
	Sender *campaign.Sender
	// Transactional sends the messages of POST /api/v1/send; nil: the route answers 501.
	Transactional *campaign.Transactional
	// Trace is the message trace of GET /api/v1/trace and /api/v1/trace/{id}; nil: they
	// answer 501.
	Trace *mailtrace.Tracer
	// GDPR exports and erases a person's data (POST /api/v1/gdpr/export and erase); nil:
	// they answer 501.
	GDPR *gdpr.Service
	// Retention applies the [retention] rules for POST /api/v1/retention/run; nil: it
	// answers 501.
	Retention *retention.Service
	// Admin runs the operations of the domain, user, alias, queue, spam and check routes,
	// the same the command line runs (its Resolver checks DNS records, its Spam scores
	// explained messages, as the CLI's do); DNS is what the DNS records of GET /api/v1/domains/{name}
	// point at (app.DNSSetup).
	Admin  *admin.Admin
	DNS    admin.DNSSetup
	Logger *slog.Logger
	// MaxFailures failed token checks of one client within FailureWindow make its requests
	// wait for the window's end (429). Defaults: DefaultMaxFailures, DefaultFailureWindow.
	MaxFailures   int
	FailureWindow time.Duration
	// MaxMessage bounds the message of POST /api/v1/spam/explain, in bytes (413 beyond).
	// Default: DefaultMaxMessage (25 MiB).
	MaxMessage int64
	// Now is time.Now when nil.
	Now func() time.Time
}

// API is the JSON API's handler.
type API struct {
	cfg      Config
	logger   *slog.Logger
	mux      *http.ServeMux
	failures *failureCounter
}

// New builds the API of cfg.
func New(cfg Config) *API {
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = DefaultMaxFailures
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = DefaultFailureWindow
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxMessage <= 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	a := &API{cfg: cfg, logger: cfg.Logger, mux: http.NewServeMux(),
		failures: &failureCounter{limit: cfg.MaxFailures, window: cfg.FailureWindow, counts: map[string]*failureCount{}}}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	for _, rt := range routeTable() {
		a.mux.Handle(rt.method+" "+rt.path, a.guard(rt))
	}
	return a
}

// Prefix is the path every route of the API begins with.
const Prefix = "/api/v1/"

// Routes adds the API under Prefix to mux (web.Handler's).
func (a *API) Routes() func(mux *http.ServeMux) {
	return func(mux *http.ServeMux) { mux.Handle(Prefix, a) }
}

// access is who may use a route.
type access int

const (
	public    access = iota // no token (the OpenAPI document)
	adminOnly               // an admin token
	anyToken                // an admin or an account token (the send route)
)

// allows reports whether a token of scope may use a route of access need.
func allows(scope store.APITokenScope, need access) bool {
	switch need {
	case public:
		return true
	case adminOnly:
		return scope == store.ScopeAdmin
	case anyToken:
		return scope == store.ScopeAdmin || scope == store.ScopeAccount
	}
	return false
}

// handler serves one route; an error becomes the error answer (writeError).
type handler func(a *API, w http.ResponseWriter, r *http.Request) error

// route is one entry of the route table.
type route struct {
	method string
	path   string // a ServeMux pattern's path, which is also its OpenAPI path
	access access
	handle handler
}

// routeTable is every route of the API, in the order of openapi.json.
func routeTable() []route {
	return []route{
		{"GET", "/api/v1/openapi.json", public, serveOpenAPI},
		{"GET", "/api/v1/campaigns", adminOnly, listCampaigns},
		{"GET", "/api/v1/campaigns/{id}", adminOnly, getCampaign},
		{"POST", "/api/v1/campaigns/{id}/start", adminOnly, startCampaign},
		{"POST", "/api/v1/campaigns/{id}/pause", adminOnly, pauseCampaign},
		{"POST", "/api/v1/campaigns/{id}/resume", adminOnly, resumeCampaign},
		{"POST", "/api/v1/campaigns/{id}/cancel", adminOnly, cancelCampaign},
		{"GET", "/api/v1/campaigns/{id}/stats", adminOnly, campaignStats},
		{"GET", "/api/v1/lists", adminOnly, listLists},
		{"POST", "/api/v1/lists", adminOnly, createList},
		{"GET", "/api/v1/lists/{id}/subscribers", adminOnly, listSubscribers},
		{"POST", "/api/v1/lists/{id}/subscribers", adminOnly, addSubscriber},
		{"GET", "/api/v1/suppressions", adminOnly, listSuppressions},
		{"POST", "/api/v1/suppressions", adminOnly, addSuppression},
		{"DELETE", "/api/v1/suppressions/{address}", adminOnly, removeSuppression},
		{"POST", "/api/v1/suppressions/import", adminOnly, importSuppressions},
		{"POST", "/api/v1/send", anyToken, send},
		{"GET", "/api/v1/audit", adminOnly, listAudit},
		{"GET", "/api/v1/trace", adminOnly, searchTrace},
		{"GET", "/api/v1/trace/{id}", adminOnly, traceMessage},
		{"GET", "/api/v1/stats", adminOnly, stats},
		{"POST", "/api/v1/gdpr/export", adminOnly, exportPersonal},
		{"POST", "/api/v1/gdpr/erase", adminOnly, erasePersonal},
		{"GET", "/api/v1/domains", adminOnly, listDomains},
		{"POST", "/api/v1/domains", adminOnly, createDomain},
		{"GET", "/api/v1/domains/{name}", adminOnly, getDomain},
		{"DELETE", "/api/v1/domains/{name}", adminOnly, removeDomain},
		{"GET", "/api/v1/users", adminOnly, listUsers},
		{"POST", "/api/v1/users", adminOnly, createUser},
		{"GET", "/api/v1/users/{address}", adminOnly, getUser},
		{"DELETE", "/api/v1/users/{address}", adminOnly, removeUser},
		{"PUT", "/api/v1/users/{address}/password", adminOnly, setUserPassword},
		{"GET", "/api/v1/users/{address}/quota", adminOnly, getQuota},
		{"PUT", "/api/v1/users/{address}/quota", adminOnly, setQuota},
		{"PUT", "/api/v1/users/{address}/legal-hold", adminOnly, setLegalHold},
		{"GET", "/api/v1/users/{address}/app-passwords", adminOnly, listAppPasswords},
		{"POST", "/api/v1/users/{address}/app-passwords", adminOnly, createAppPassword},
		{"DELETE", "/api/v1/users/{address}/app-passwords/{name}", adminOnly, removeAppPassword},
		{"GET", "/api/v1/users/{address}/send-as", adminOnly, listSendAs},
		{"POST", "/api/v1/users/{address}/send-as", adminOnly, addSendAs},
		{"DELETE", "/api/v1/users/{address}/send-as/{send_as}", adminOnly, removeSendAs},
		{"GET", "/api/v1/users/{address}/send-limits", adminOnly, getSendLimits},
		{"PUT", "/api/v1/users/{address}/send-limits", adminOnly, setSendLimits},
		{"GET", "/api/v1/aliases", adminOnly, listAliases},
		{"POST", "/api/v1/aliases", adminOnly, createAlias},
		{"DELETE", "/api/v1/aliases/{address}", adminOnly, removeAlias},
		{"GET", "/api/v1/queue", adminOnly, listQueue},
		{"POST", "/api/v1/queue/retry", adminOnly, retryAllQueued},
		{"GET", "/api/v1/queue/{id}", adminOnly, getQueued},
		{"DELETE", "/api/v1/queue/{id}", adminOnly, deleteQueued},
		{"POST", "/api/v1/queue/{id}/retry", adminOnly, retryQueued()},
		{"POST", "/api/v1/queue/{id}/hold", adminOnly, holdQueued(true)},
		{"POST", "/api/v1/queue/{id}/release", adminOnly, holdQueued(false)},
		{"GET", "/api/v1/users/{address}/spam/allow", adminOnly, listSpamEntries(false)},
		{"POST", "/api/v1/users/{address}/spam/allow", adminOnly, addSpamEntry(false)},
		{"DELETE", "/api/v1/users/{address}/spam/allow/{entry}", adminOnly, removeSpamEntry(false)},
		{"GET", "/api/v1/users/{address}/spam/block", adminOnly, listSpamEntries(true)},
		{"POST", "/api/v1/users/{address}/spam/block", adminOnly, addSpamEntry(true)},
		{"DELETE", "/api/v1/users/{address}/spam/block/{entry}", adminOnly, removeSpamEntry(true)},
		{"GET", "/api/v1/templates", adminOnly, listTemplates},
		{"POST", "/api/v1/templates", adminOnly, createTemplate},
		{"GET", "/api/v1/templates/{name}", adminOnly, getTemplate},
		{"PUT", "/api/v1/templates/{name}", adminOnly, updateTemplate},
		{"DELETE", "/api/v1/templates/{name}", adminOnly, removeTemplate},
		{"POST", "/api/v1/campaigns", adminOnly, createCampaign},
		{"PUT", "/api/v1/campaigns/{id}", adminOnly, updateCampaign},
		{"DELETE", "/api/v1/campaigns/{id}", adminOnly, removeCampaign},
		{"POST", "/api/v1/campaigns/{id}/test", adminOnly, testCampaign},
		{"POST", "/api/v1/campaigns/{id}/schedule", adminOnly, scheduleCampaign},
		{"GET", "/api/v1/lists/{id}", adminOnly, getList},
		{"DELETE", "/api/v1/lists/{id}", adminOnly, removeList},
		{"DELETE", "/api/v1/lists/{id}/subscribers/{address}", adminOnly, unsubscribe},
		{"POST", "/api/v1/lists/{id}/import", adminOnly, importSubscribers},
		{"GET", "/api/v1/lists/{id}/export", adminOnly, exportSubscribers},
		{"GET", "/api/v1/subscribers/{address}", adminOnly, getSubscriber},
		{"PUT", "/api/v1/subscribers/{address}", adminOnly, putSubscriber},
		{"DELETE", "/api/v1/subscribers/{address}", adminOnly, removeSubscriber},
		{"PUT", "/api/v1/users/{address}/admin", adminOnly, setWebAdmin},
		{"GET", "/api/v1/domains/{name}/dns-check", adminOnly, checkDomainDNS},
		{"POST", "/api/v1/spam/explain", adminOnly, explainSpam},
		{"GET", "/api/v1/check", adminOnly, checkIntegrity},
		{"POST", "/api/v1/retention/run", adminOnly, runRetention},
		{"GET", "/api/v1/tokens", adminOnly, listTokens},
		{"DELETE", "/api/v1/tokens/{id}", adminOnly, revokeToken},
	}
}

// ServeHTTP answers a request under Prefix: a route's handler, or 404 or 405 in the error
// shape.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h, pattern := a.mux.Handler(r)
	if pattern != "" {
		a.mux.ServeHTTP(w, r)
		return
	}
	// The mux's own answer says which of 404 and 405 (with Allow) it is.
	rec := &statusRecorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", rec.header.Get("Allow"))
		a.writeError(w, r, &apiError{status: http.StatusMethodNotAllowed, code: codeMethodNotAllowed,
			message: "method " + r.Method + " is not allowed here; allowed: " + rec.header.Get("Allow")})
		return
	}
	a.writeError(w, r, &apiError{status: http.StatusNotFound, code: "not_found", message: "no such route: " + r.URL.Path})
}

// statusRecorder keeps the status and header fields of a response and drops its body.
type statusRecorder struct {
	header http.Header
	status int
}

func (s *statusRecorder) Header() http.Header         { return s.header }
func (s *statusRecorder) Write(p []byte) (int, error) { return len(p), nil }
func (s *statusRecorder) WriteHeader(code int)        { s.status = code }

// principalKey is the context key of a request's verified token.
type principalKey struct{}

// guard checks the token of rt's requests, then runs its handler.
func (a *API) guard(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.access != public {
			p, err := a.authenticate(r)
			if err != nil {
				a.writeError(w, r, err)
				return
			}
			if !allows(p.Scope, rt.access) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="posthorn", error="insufficient_scope"`)
				a.writeError(w, r, &apiError{status: http.StatusForbidden, code: codeForbidden,
					message: "this token's scope (" + string(p.Scope) + ") does not allow " + rt.method + " " + rt.path})
				return
			}
			ctx := audit.WithActor(r.Context(), audit.Actor{Kind: audit.KindAPI, Name: tokenActor(p)})
			r = r.WithContext(context.WithValue(ctx, principalKey{}, p))
		}
		if err := rt.handle(a, w, r); err != nil {
			a.writeError(w, r, err)
		}
	})
}

// authenticate verifies the bearer token of r (RFC 6750 §2.1), counting failures per client.
// tokenActor names a token in the audit log: its id and name, and the account it acts for.
func tokenActor(p store.APIPrincipal) string {
	name := "token " + strconv.FormatInt(p.TokenID, 10) + " (" + p.Name + ")"
	if p.Account != "" {
		name += " for " + p.Account
	}
	return name
}

func (a *API) authenticate(r *http.Request) (store.APIPrincipal, error) {
	client := clientKey(r)
	now := a.cfg.Now()
	if wait := a.failures.blocked(client, now); wait > 0 {
		return store.APIPrincipal{}, &apiError{status: http.StatusTooManyRequests, code: codeTooManyRequests,
			message: "too many failed token checks from this address; try again later", retryAfter: wait}
	}
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return store.APIPrincipal{}, &apiError{status: http.StatusUnauthorized, code: codeUnauthorized,
			message: "this route wants an API token: Authorization: Bearer ph_...", authenticate: `Bearer realm="posthorn"`}
	}
	p, err := a.cfg.Tokens.Verify(r.Context(), token)
	if err != nil {
		if _, refused := operr.As(err, operr.Unauthorized, ""); refused {
			a.failures.fail(client, now)
		}
		return store.APIPrincipal{}, err
	}
	return p, nil
}

func serveOpenAPI(a *API, w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}
