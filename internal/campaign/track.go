package campaign

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"posthorn/internal/campaign/machine"
	"posthorn/internal/campaign/token"
	"posthorn/internal/config"
	"posthorn/internal/store"
)

// The Tracker is what the public web endpoints call: the open pixel, tracked links, the view
// in a browser, unsubscribe and preferences, the subscription form and its confirmation.
// Everything it is given comes from strangers, so:
//
//   - Every token is verified first (package token). A forged, altered or truncated token, a
//     token of another kind, a campaign, recipient or link that does not exist: all are
//     ErrUnknownToken, one value, which the web answers with 404 and which tells a prober
//     nothing about which part was wrong.
//   - A click redirects only to the URL its token was signed for, read from the campaign's link
//     table (store.CampaignLink: the index stored is the link index of the token, the one of
//     render; index 0, the honeypot, is the recipient's own view URL under Config.PublicURL) —
//     never to a URL the request carries, so there is no open redirect.
//   - Events are classified by package machine (privacy proxies, scanners, HEAD requests,
//     the honeypot, clicks right after delivery, bursts of clicks) and recorded with the
//     machine flag and its reason. The delivery time a click is measured from is the
//     recipient's ledger row's UpdatedAt when the row is queued or delivered (the time it was
//     queued or reported delivered, whichever came last): a scanner acts within seconds of
//     either. The recipient's other clicks (for bursts) are kept in memory, per recipient for
//     machine.BurstWindow, in a window of at most maxClickKeys recipients; they are not read
//     back from the store, so after a restart a burst that spans it is not seen.
//   - Consent: a campaign with tracking off, a recipient who did not consent to tracking, or a
//     campaign in anonymous mode records an event that names nobody: recipient 0, no user
//     agent, no IP — it still counts for the campaign, human or machine apart. Otherwise the
//     event carries the recipient, the user agent (at most maxUserAgent bytes, valid UTF-8) and
//     the IP as [campaign] track_ip says (none, truncated: IPv4 /24 and IPv6 /48, or full).
//     Consent records (subscribe, confirm, unsubscribe) keep the truncated IP, or none with
//     track_ip "none".
//   - Writes are bounded: events go through a buffered writer that records them in batches of
//     at most eventBatch, one transaction each, at least every eventFlush and at Close, so a
//     flood of pixel fetches costs a few transactions a second. When the buffer is full, a
//     request waits for room (or its context), which slows the flood rather than the store.
//
// The campaigns, their link tables and compiled templates are cached for campaignTTL (at most
// maxCachedCampaigns of them), so that a pixel costs one read of the recipient's row.

// ErrUnknownToken is every failure of a public link: a bad token, an unknown campaign,
// recipient, subscriber or link. The web answers it with 404.
var ErrUnknownToken = errors.New("unknown or invalid link")

// Bounds of the Tracker.
const (
	maxUserAgent       = 512
	eventBatch         = 500
	eventBuffer        = 4 * eventBatch
	eventFlush         = time.Second
	campaignTTL        = 30 * time.Second
	maxCachedCampaigns = 1024
	maxClickKeys       = 10000
)

// TrackRequest is what the Tracker needs of one HTTP request.
type TrackRequest struct {
	Method    string // GET or HEAD
	UserAgent string
	RemoteIP  string // the client's address, without port
}

// Tracker serves the public side of bulk mail over a Service. Build it with NewTracker and
// Close it after the HTTP server has stopped: Close records the events still buffered.
type Tracker struct {
	svc        *Service
	outbox     *Outbox
	classifier *machine.Classifier
	trackIP    string
	publicURL  string
	confirmTTL time.Duration
	// confirmFrom is the From of confirmation mails; "" is postmaster@ the first local domain.
	confirmFrom string
	logger      *slog.Logger

	events    *eventWriter
	clicks    clickWindow
	campaigns campaignCache
	form      formLimits

	keyMu sync.Mutex
	key   []byte
}

// TrackerConfig is what NewTracker builds a Tracker from.
type TrackerConfig struct {
	Campaign config.Campaign
	// Outbox sends the confirmation mails of double opt-in lists.
	Outbox *Outbox
	// ConfirmFrom is the From address of confirmation mails; "" is postmaster@ the local
	// domain added first.
	ConfirmFrom string
	Logger      *slog.Logger
}

// NewTracker returns a Tracker of svc and starts its event writer.
func NewTracker(svc *Service, cfg TrackerConfig) *Tracker {
	cc := cfg.Campaign
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	t := &Tracker{
		svc:    svc,
		outbox: cfg.Outbox,
		classifier: machine.New(machine.Config{
			ProxyNetworks: cc.ProxyPrefixes(),
			ProxyAgents:   cc.ProxyAgents,
			ScannerAgents: cc.ScannerAgents,
			ScannerWindow: time.Duration(cc.ScannerWindowSeconds) * time.Second,
		}),
		trackIP:     cc.TrackIP,
		publicURL:   strings.TrimRight(cc.PublicURL, "/"),
		confirmTTL:  time.Duration(max(cc.ConfirmHours, 1)) * time.Hour,
		confirmFrom: cfg.ConfirmFrom,
		logger:      logger,
		form:        newFormLimits(cc.FormPerIPPerHour, cc.FormPerAddressPerDay),
	}
	t.events = newEventWriter(svc, logger)
	return t
}

// Close stops the event writer after recording what it holds.
func (t *Tracker) Close() { t.events.close() }

// signer returns the token signer; the key is read from the store once.
func (t *Tracker) signer(ctx context.Context) (token.Signer, error) {
	t.keyMu.Lock()
	defer t.keyMu.Unlock()
	if t.key == nil {
		s, err := t.svc.Signer(ctx)
		if err != nil {
			return token.Signer{}, err
		}
		t.key = s.Key
	}
	return token.Signer{Key: t.key}, nil
}

// unknown turns a store's not-found into ErrUnknownToken and wraps anything else.
func unknown(what string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrUnknownToken
	}
	return fmt.Errorf("%s: %w", what, err)
}

// target is whom an event is about: the campaign, the recipient row (zero for the anonymous
// mode) and whether the event may name them.
type target struct {
	campaign  *cachedCampaign
	recipient store.Recipient
	personal  bool
}

// lookup finds the campaign and recipient of a verified token.
func (t *Tracker) lookup(ctx context.Context, r token.Recipient) (target, error) {
	c, err := t.campaigns.get(ctx, t.svc.Store, r.Campaign, t.svc.now())
	if err != nil {
		return target{}, err
	}
	tg := target{campaign: c}
	if r.Recipient == 0 {
		return tg, nil
	}
	rec, err := t.svc.Store.GetRecipient(ctx, r.Recipient)
	if err != nil {
		return target{}, unknown("campaign recipient", err)
	}
	if rec.CampaignID != r.Campaign {
		return target{}, ErrUnknownToken
	}
	tg.recipient = rec
	tg.personal = c.Tracking && rec.Tracking && !c.Anonymous
	return tg, nil
}

// event builds the event of tg with what the request tells, within consent.
func (t *Tracker) event(tg target, kind store.EventKind, req TrackRequest, v machine.Verdict, at time.Time) store.Event {
	e := store.Event{CampaignID: tg.campaign.ID, Kind: kind, LinkIndex: -1, Machine: v.Machine, Reason: string(v.Reason), At: at}
	if tg.personal {
		e.RecipientID = tg.recipient.ID
		e.UserAgent = boundText(req.UserAgent, maxUserAgent)
		e.IP = t.keepIP(req.RemoteIP)
	}
	return e
}

// keepIP applies track_ip to a client address.
func (t *Tracker) keepIP(ip string) string {
	switch t.trackIP {
	case "full":
		if a, err := netip.ParseAddr(ip); err == nil {
			return a.Unmap().String()
		}
		return ""
	case "none":
		return ""
	default:
		return TruncateIP(ip)
	}
}

// consentIP is the client address a consent record keeps: truncated (IPv4 /24, IPv6 /48), or
// nothing when track_ip is "none". A consent record never keeps a full address.
func (t *Tracker) consentIP(ip string) string {
	if t.trackIP == "none" {
		return ""
	}
	return TruncateIP(ip)
}

// boundText cuts s to at most n bytes of valid UTF-8.
func boundText(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return strings.ToValidUTF8(s, "")
}

// Open records a fetch of the open pixel. Every failure to verify is ErrUnknownToken.
func (t *Tracker) Open(ctx context.Context, tok string, req TrackRequest) error {
	signer, err := t.signer(ctx)
	if err != nil {
		return err
	}
	r, err := signer.VerifyOpen(tok)
	if err != nil {
		return ErrUnknownToken
	}
	tg, err := t.lookup(ctx, r)
	if err != nil {
		return err
	}
	now := t.svc.now()
	v := t.classifier.Classify(machine.Event{Kind: machine.Open, At: now, Method: req.Method,
		UserAgent: req.UserAgent, IP: parseIP(req.RemoteIP)})
	return t.events.add(ctx, t.event(tg, store.EventOpen, req, v, now))
}

func parseIP(s string) netip.Addr {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}
