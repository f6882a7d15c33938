package config

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
)

// Filter configures the inbound filter of the MX (internal/filter): what is checked and what a
// finding does. Submission is never filtered.
type Filter struct {
	// Run the inbound filter at all. Default: true.
	Enabled bool `toml:"enabled"`
	// Client networks (CIDR) that rate limits, DNSBL lookups and greylisting leave alone: your
	// own servers. Default: ["127.0.0.0/8", "::1/128"].
	ExemptNetworks []string `toml:"exempt_networks"`
	// Check SPF, iprev, DKIM, ARC and DMARC and prepend Authentication-Results. Default: true.
	Authentication bool `toml:"authentication"`
	// What a DMARC failure under p=reject does: "reject" (550 5.7.1) or "junk". Default: "reject".
	DMARCReject string `toml:"dmarc_reject"`
	// Domains whose ARC seals may override a DMARC failure (mailing lists and forwarders you
	// trust). Default: [] (ARC is reported but never overrides).
	TrustedARCSealers []string `toml:"trusted_arc_sealers"`
	// DNS block list zones (RFC 5782) the client's address is looked up in at EHLO; a listed
	// client gets 554 5.7.1. Default: [].
	DNSBL []string `toml:"dnsbl"`
	// Connections per minute from one address, and from one /24 (IPv4) or /64 (IPv6); more get
	// 421 4.7.0. 0 = no limit. Default: 60 and 300.
	ConnectionsPerMinute        int `toml:"connections_per_minute"`
	ConnectionsPerMinuteNetwork int `toml:"connections_per_minute_network"`
	// Recipients per minute from one address, and from one network; more get 451 4.7.1.
	// 0 = no limit. Default: 600 and 3000.
	RecipientsPerMinute        int `toml:"recipients_per_minute"`
	RecipientsPerMinuteNetwork int `toml:"recipients_per_minute_network"`

	Clamd       FilterClamd       `toml:"clamd"`
	Attachments FilterAttachments `toml:"attachments"`
	Greylist    FilterGreylist    `toml:"greylist"`
	Spam        FilterSpam        `toml:"spam"`
}

// FilterClamd configures virus scanning through clamd.
type FilterClamd struct {
	// clamd's socket: "unix:/path/to/clamd.ctl" or "host:port"; "" = no virus scanning.
	// Default: "".
	Address string `toml:"address"`
	// Longest scan of one message, in seconds. Default: 30.
	TimeoutSeconds int `toml:"timeout_seconds"`
	// Largest message sent to clamd, in MiB; larger ones are delivered unscanned (keep it at
	// most clamd's StreamMaxLength). Default: 25.
	MaxScanMiB int `toml:"max_scan_mib"`
	// When clamd is down or too slow: "tempfail" (451 4.7.1, the sender retries) or "accept"
	// (deliver with X-Posthorn-Virus-Scan: unavailable). Default: "tempfail".
	Fail string `toml:"fail"`
	// Which messages go to clamd: "attachments" (those with a part that can carry malware: a
	// part that is not text, a text part named as a file, or an inline-encoded file in text;
	// sent whole) or "all". Default: "attachments".
	Scan string `toml:"scan"`
}

// FilterAttachments configures the built-in attachment policy.
type FilterAttachments struct {
	// Refuse executables, scripts and macro-enabled Office documents (554 5.7.1). Default: true.
	Enabled bool `toml:"enabled"`
	// More file name extensions to refuse, lower case without the dot, e.g. ["iso", "img"].
	// Default: [].
	BlockedExtensions []string `toml:"blocked_extensions"`
}

// FilterGreylist configures greylisting.
type FilterGreylist struct {
	// Greylist new (client network, sender, recipient) triplets with 451 4.7.1. Default: false.
	Enabled bool `toml:"enabled"`
	// Least time before a retry passes, in seconds. Default: 300.
	DelaySeconds int `toml:"delay_seconds"`
	// How long a triplet is remembered after its last message, in days. Default: 35.
	ExpiryDays int `toml:"expiry_days"`
}

// DefaultFilter is the [filter] section's defaults.
func DefaultFilter() Filter {
	return Filter{
		Enabled:                     true,
		ExemptNetworks:              []string{"127.0.0.0/8", "::1/128"},
		Authentication:              true,
		DMARCReject:                 "reject",
		TrustedARCSealers:           []string{},
		DNSBL:                       []string{},
		ConnectionsPerMinute:        60,
		ConnectionsPerMinuteNetwork: 300,
		RecipientsPerMinute:         600,
		RecipientsPerMinuteNetwork:  3000,
		Clamd:                       FilterClamd{TimeoutSeconds: 30, MaxScanMiB: 25, Fail: "tempfail", Scan: "attachments"},
		Attachments:                 FilterAttachments{Enabled: true, BlockedExtensions: []string{}},
		Greylist:                    FilterGreylist{DelaySeconds: 300, ExpiryDays: 35},
		Spam:                        DefaultFilterSpam(),
	}
}

// ExemptPrefixes parses ExemptNetworks (validated at load).
func (f Filter) ExemptPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, n := range f.ExemptNetworks {
		if p, err := netip.ParsePrefix(n); err == nil {
			out = append(out, p.Masked())
		}
	}
	return out
}

func (f Filter) validate() error {
	for _, n := range f.ExemptNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("key filter.exempt_networks: %q is not a network in CIDR notation", n)
		}
	}
	switch f.DMARCReject {
	case "reject", "junk":
	default:
		return fmt.Errorf("key filter.dmarc_reject: %q is not one of reject, junk", f.DMARCReject)
	}
	for _, z := range append(append([]string{}, f.DNSBL...), f.TrustedARCSealers...) {
		if z == "" || strings.ContainsAny(z, " /:@") {
			return fmt.Errorf("key filter.dnsbl or filter.trusted_arc_sealers: %q is not a domain name", z)
		}
	}
	for _, r := range []struct {
		key   string
		value int
	}{
		{"filter.connections_per_minute", f.ConnectionsPerMinute},
		{"filter.connections_per_minute_network", f.ConnectionsPerMinuteNetwork},
		{"filter.recipients_per_minute", f.RecipientsPerMinute},
		{"filter.recipients_per_minute_network", f.RecipientsPerMinuteNetwork},
	} {
		if r.value < 0 {
			return fmt.Errorf("key %s: must be 0 (no limit) or a number per minute, got %d", r.key, r.value)
		}
	}
	if a := f.Clamd.Address; a != "" {
		if path, ok := strings.CutPrefix(a, "unix:"); ok {
			if !filepath.IsAbs(path) {
				return fmt.Errorf("key filter.clamd.address: %q: the socket path must be absolute", a)
			}
		} else if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return fmt.Errorf("key filter.clamd.address: %q is neither unix:/path nor host:port", a)
		}
	}
	if f.Clamd.TimeoutSeconds <= 0 {
		return fmt.Errorf("key filter.clamd.timeout_seconds: must be greater than 0, got %d", f.Clamd.TimeoutSeconds)
	}
	if f.Clamd.MaxScanMiB <= 0 {
		return fmt.Errorf("key filter.clamd.max_scan_mib: must be greater than 0, got %d", f.Clamd.MaxScanMiB)
	}
	switch f.Clamd.Fail {
	case "tempfail", "accept":
	default:
		return fmt.Errorf("key filter.clamd.fail: %q is not one of tempfail, accept", f.Clamd.Fail)
	}
	switch f.Clamd.Scan {
	case "attachments", "all":
	default:
		return fmt.Errorf("key filter.clamd.scan: %q is not one of attachments, all", f.Clamd.Scan)
	}
	for _, e := range f.Attachments.BlockedExtensions {
		if e == "" || e != strings.ToLower(e) || strings.ContainsAny(e, "./\\ ") {
			return fmt.Errorf("key filter.attachments.blocked_extensions: %q must be a lower-case extension without the dot", e)
		}
	}
	if f.Greylist.DelaySeconds <= 0 || f.Greylist.ExpiryDays <= 0 {
		return errors.New("key filter.greylist.delay_seconds and filter.greylist.expiry_days: must be greater than 0")
	}
	return f.Spam.validate()
}
