package machine

import (
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Kind is what a tracked event is.
type Kind int

// The kinds of tracked event.
const (
	Open Kind = iota + 1
	Click
)

// Reason names the rule that made an event a machine event; empty for a human one.
type Reason string

// The reasons, as stored with the event.
const (
	ReasonHoneypot      Reason = "honeypot-link"
	ReasonHead          Reason = "head-request"
	ReasonNoAgent       Reason = "no-user-agent"
	ReasonScannerAgent  Reason = "scanner-agent"
	ReasonAppleProxy    Reason = "apple-privacy-proxy"
	ReasonGoogleProxy   Reason = "google-image-proxy"
	ReasonYahooProxy    Reason = "yahoo-mail-proxy"
	ReasonProxyAgent    Reason = "proxy-agent"
	ReasonProxyNetwork  Reason = "proxy-network"
	ReasonAfterDelivery Reason = "click-after-delivery"
	ReasonLinkBurst     Reason = "link-burst"
)

// DefaultScannerWindow is the scanner window when Config.ScannerWindow is zero.
const DefaultScannerWindow = 10 * time.Second

// BurstWindow and BurstLinks define a burst of clicks: that many distinct links of a message
// (or all of them) clicked within that time of each other.
const (
	BurstWindow = 2 * time.Second
	BurstLinks  = 3
)

// appleProxyAgent is the whole user agent of Apple Mail Privacy Protection's fetches.
const appleProxyAgent = "Mozilla/5.0"

// BuiltinProxyNetworks returns the built-in address ranges of mail privacy proxies: Apple's
// 17.0.0.0/8. A new slice each call.
func BuiltinProxyNetworks() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("17.0.0.0/8")}
}

// BuiltinScannerAgents returns the built-in user agent substrings of programs and link
// scanners, lower-case. A new slice each call.
func BuiltinScannerAgents() []string {
	return []string{
		// HTTP libraries and command-line tools.
		"curl/", "wget/", "python-requests", "python-urllib", "aiohttp", "go-http-client",
		"okhttp", "java/", "libwww-perl", "apache-httpclient", "httpclient", "node-fetch", "axios/",
		// Headless and automated browsers.
		"headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium",
		// Crawlers and link previews.
		"bot/", "bot;", "crawler", "spider", "bingpreview", "slurp",
		// Mail security gateways that name themselves.
		"barracuda", "proofpoint", "mimecast", "urldefense", "safelinks",
	}
}

// Config adds the operator's knowledge to the built-in rules.
type Config struct {
	// ProxyNetworks are more address ranges of mail privacy proxies (opens only).
	ProxyNetworks []netip.Prefix
	// ProxyAgents are more user agent substrings of mail privacy proxies (opens only),
	// compared case-insensitively.
	ProxyAgents []string
	// ScannerAgents are more user agent substrings of programs and link scanners (opens and
	// clicks), compared case-insensitively.
	ScannerAgents []string
	// ScannerWindow is how soon after delivery a click is taken for a scanner's. Default: 10 s.
	ScannerWindow time.Duration
}

// OtherClick is another click of the same recipient in the same campaign.
type OtherClick struct {
	Link int64
	At   time.Time
}

// Event is one tracked request with what is known about its message.
type Event struct {
	Kind Kind
	At   time.Time
	// DeliveredAt is when the message was delivered to the recipient's server; zero if unknown.
	DeliveredAt time.Time
	Method      string // the HTTP method
	UserAgent   string
	IP          netip.Addr // invalid if unknown
	// Link is the clicked link's index (clicks only).
	Link int64
	// Honeypot is set when the clicked link is the hidden one.
	Honeypot bool
	// Links is the number of tracked links in the message, the honeypot aside; 0 if unknown.
	Links int
	// OtherClicks are the recipient's other clicks in this campaign (any order).
	OtherClicks []OtherClick
}

// Verdict is the classification of one event.
type Verdict struct {
	Machine bool
	Reason  Reason // empty for a human event
}

// Classifier classifies events with the built-in rules and a Config. Safe for concurrent use.
type Classifier struct {
	proxyNetworks []netip.Prefix
	proxyAgents   []string
	scannerAgents []string
	window        time.Duration
}

// New returns a Classifier for cfg.
func New(cfg Config) *Classifier {
	c := &Classifier{
		proxyNetworks: append(BuiltinProxyNetworks(), cfg.ProxyNetworks...),
		scannerAgents: BuiltinScannerAgents(),
		window:        cfg.ScannerWindow,
	}
	if c.window <= 0 {
		c.window = DefaultScannerWindow
	}
	for _, a := range cfg.ProxyAgents {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			c.proxyAgents = append(c.proxyAgents, a)
		}
	}
	for _, a := range cfg.ScannerAgents {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			c.scannerAgents = append(c.scannerAgents, a)
		}
	}
	return c
}

func machine(r Reason) Verdict { return Verdict{Machine: true, Reason: r} }

// Classify returns the verdict on e (see the package doc for the rules and their order).
func (c *Classifier) Classify(e Event) Verdict {
	if e.Kind == Click && e.Honeypot {
		return machine(ReasonHoneypot)
	}
	if strings.EqualFold(e.Method, http.MethodHead) {
		return machine(ReasonHead)
	}
	agent := strings.TrimSpace(e.UserAgent)
	if agent == "" {
		return machine(ReasonNoAgent)
	}
	lower := strings.ToLower(agent)
	if containsAny(lower, c.scannerAgents) {
		return machine(ReasonScannerAgent)
	}
	switch e.Kind {
	case Open:
		return c.classifyOpen(agent, lower, e.IP)
	case Click:
		return c.classifyClick(e)
	}
	return Verdict{}
}

func (c *Classifier) classifyOpen(agent, lower string, ip netip.Addr) Verdict {
	switch {
	case agent == appleProxyAgent:
		return machine(ReasonAppleProxy)
	case strings.Contains(lower, "googleimageproxy") || strings.Contains(lower, "via ggpht.com"):
		return machine(ReasonGoogleProxy)
	case strings.Contains(lower, "yahoomailproxy"):
		return machine(ReasonYahooProxy)
	case containsAny(lower, c.proxyAgents):
		return machine(ReasonProxyAgent)
	}
	if ip.IsValid() {
		ip = ip.Unmap()
		for _, p := range c.proxyNetworks {
			if p.Contains(ip) {
				return machine(ReasonProxyNetwork)
			}
		}
	}
	return Verdict{}
}

func (c *Classifier) classifyClick(e Event) Verdict {
	if strings.TrimSpace(e.UserAgent) == appleProxyAgent {
		// Apple's proxy fetches images, it does not follow links: a bare "Mozilla/5.0" on a
		// link is a program that wants to look like a browser.
		return machine(ReasonScannerAgent)
	}
	if !e.DeliveredAt.IsZero() && e.At.Sub(e.DeliveredAt) < c.window {
		return machine(ReasonAfterDelivery)
	}
	links := map[int64]bool{e.Link: true}
	for _, o := range e.OtherClicks {
		if d := o.At.Sub(e.At); d <= BurstWindow && d >= -BurstWindow {
			links[o.Link] = true
		}
	}
	if len(links) >= BurstLinks || (e.Links >= 2 && len(links) >= e.Links) {
		return machine(ReasonLinkBurst)
	}
	return Verdict{}
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
