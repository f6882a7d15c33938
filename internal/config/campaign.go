package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"posthorn/internal/address"
)

// Campaign configures bulk mail (internal/campaign): the public address of its links, where
// feedback reports arrive, what tracking keeps, and the limits of the public subscription form.
type Campaign struct {
	// The https base of every link a campaign message carries (tracking, view in browser,
	// unsubscribe, preferences, confirmation), served by the http listener behind it, e.g.
	// "https://news.example.org"; "" = campaigns with such links cannot start. Default: "".
	PublicURL string `toml:"public_url"`
	// The address ARF feedback reports (RFC 5965) are sent to, on a local domain; reports that
	// arrive there are matched to a campaign and recipient, and an abuse report suppresses the
	// address. "" = none (reports still count when they arrive at a VERP address). Default: "".
	AbuseAddress string `toml:"abuse_address"`
	// How much of a client's IP address a tracking or consent record keeps: "none", "truncated"
	// (IPv4 /24, IPv6 /48) or "full". Default: "truncated".
	TrackIP string `toml:"track_ip"`
	// More networks (CIDR) whose image fetches are mail privacy proxies', on top of the
	// built-in ones; opens from them count as machine opens. Default: [].
	ProxyNetworks []string `toml:"proxy_networks"`
	// More user-agent substrings of privacy proxies (opens) and of link scanners (clicks), on
	// top of the built-in ones. Default: [].
	ProxyAgents   []string `toml:"proxy_agents"`
	ScannerAgents []string `toml:"scanner_agents"`
	// A click this soon after delivery is a link scanner's, in seconds. Default: 10.
	ScannerWindowSeconds int `toml:"scanner_window_seconds"`
	// Subscription requests the public form takes per hour from one client address (IPv4, or
	// IPv6 /64), and confirmation mails it sends per day to one address (a second request for
	// an address whose confirmation is pending sends nothing). Default: 10 and 3.
	FormPerIPPerHour     int `toml:"form_per_ip_per_hour"`
	FormPerAddressPerDay int `toml:"form_per_address_per_day"`
	// How long a double opt-in confirmation link stays valid, in hours. Default: 72.
	ConfirmHours int `toml:"confirm_hours"`
	// Receivers of campaign events ([[campaign.webhooks]]), each POSTed batches of the events
	// it asks for, signed (internal/campaign, webhook.go). Default: [].
	Webhooks []CampaignWebhook `toml:"webhooks"`
}

// CampaignWebhook is one receiver of campaign events.
type CampaignWebhook struct {
	// The http(s) URL events are POSTed to (plain http only to a receiver on a network you
	// trust: the events name people), each URL at most once. Required.
	URL string `toml:"url"`
	// The shared secret of the HMAC-SHA256 signature of every request. Required.
	Secret string `toml:"secret"`
	// The kinds of event sent (WebhookEventKinds); [] = every kind. Default: [].
	Events []string `toml:"events"`
}

// WebhookEventKinds returns the kinds of campaign event a webhook can ask for.
func WebhookEventKinds() []string {
	return []string{"open", "click", "unsubscribe", "complaint", "bounce", "delivered", "deferred"}
}

// DefaultCampaign is the [campaign] section's defaults.
func DefaultCampaign() Campaign {
	return Campaign{
		TrackIP:              "truncated",
		ProxyNetworks:        []string{},
		ProxyAgents:          []string{},
		ScannerAgents:        []string{},
		ScannerWindowSeconds: 10,
		FormPerIPPerHour:     10,
		FormPerAddressPerDay: 3,
		ConfirmHours:         72,
		Webhooks:             []CampaignWebhook{},
	}
}

// ProxyPrefixes parses ProxyNetworks (validated at load).
func (c Campaign) ProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range c.ProxyNetworks {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

func (c Campaign) validate() error {
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return fmt.Errorf("key campaign.public_url: %q is not an http(s) base URL such as https://news.example.org", c.PublicURL)
		}
	}
	if c.AbuseAddress != "" {
		if _, err := address.Parse(c.AbuseAddress); err != nil {
			return fmt.Errorf("key campaign.abuse_address: %q is not a mail address: %w", c.AbuseAddress, err)
		}
	}
	switch c.TrackIP {
	case "none", "truncated", "full":
	default:
		return fmt.Errorf("key campaign.track_ip: %q is not one of none, truncated, full", c.TrackIP)
	}
	for _, n := range c.ProxyNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("key campaign.proxy_networks: %q is not a network in CIDR notation", n)
		}
	}
	for _, a := range append(append([]string{}, c.ProxyAgents...), c.ScannerAgents...) {
		if strings.TrimSpace(a) == "" {
			return fmt.Errorf("key campaign.proxy_agents or campaign.scanner_agents: an empty user-agent substring would match every client")
		}
	}
	for _, r := range []struct {
		key   string
		value int
	}{
		{"campaign.scanner_window_seconds", c.ScannerWindowSeconds},
		{"campaign.form_per_ip_per_hour", c.FormPerIPPerHour},
		{"campaign.form_per_address_per_day", c.FormPerAddressPerDay},
		{"campaign.confirm_hours", c.ConfirmHours},
	} {
		if r.value < 1 {
			return fmt.Errorf("key %s: must be at least 1, got %d", r.key, r.value)
		}
	}
	return validateWebhooks(c.Webhooks)
}

func validateWebhooks(hooks []CampaignWebhook) error {
	seen := map[string]bool{}
	for i, h := range hooks {
		key := fmt.Sprintf("campaign.webhooks[%d]", i)
		u, err := url.Parse(h.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Fragment != "" {
			return fmt.Errorf("key %s.url: %q is not an http(s) URL such as https://hooks.example.org/posthorn", key, h.URL)
		}
		if seen[h.URL] {
			return fmt.Errorf("key %s.url: %q is configured twice", key, h.URL)
		}
		seen[h.URL] = true
		if h.Secret == "" {
			return fmt.Errorf("key %s.secret: a webhook needs a secret to sign its requests", key)
		}
		for _, e := range h.Events {
			if kinds := WebhookEventKinds(); !slices.Contains(kinds, e) {
				return fmt.Errorf("key %s.events: %q is not one of %s", key, e, strings.Join(kinds, ", "))
			}
		}
	}
	return nil
}
