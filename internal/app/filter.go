package app

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/config"
	"posthorn/internal/dns"
	"posthorn/internal/filter"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
)

// newFilter builds the MX's inbound filter from [filter]; nil when it is disabled.
//
// The spam classifier runs when [filter.spam] is enabled and the store keeps spam models
// (spam.go); its allow and block lists and the first-time-sender signal join when the store
// keeps those too.
func newFilter(cfg config.Config, st store.Store, logger *slog.Logger, registry prometheus.Registerer) *filter.Filter {
	fc := cfg.Filter
	if !fc.Enabled {
		return nil
	}
	logger = logger.With("component", "filter")
	// One cache for every inbound check (SPF, DKIM keys, DMARC, ARC, iprev, DNSBLs, the spam
	// classifier's lookups), so a sender's records are fetched once a minute, not per message.
	resolver := dns.NewCache(dns.New(cfg.DNS.Resolver))
	f := &filter.Filter{
		Logger:            logger,
		Metrics:           filter.NewMetrics(registry),
		Resolver:          resolver,
		DNSBL:             fc.DNSBL,
		DMARCRejectToJunk: fc.DMARCReject == "junk",
		ClamdFailOpen:     fc.Clamd.Fail == "accept",
		Exempt:            fc.ExemptPrefixes(),
		Limits: &filter.RateLimits{
			ConnectionsPerIP:  fc.ConnectionsPerMinute,
			ConnectionsPerNet: fc.ConnectionsPerMinuteNetwork,
			RecipientsPerIP:   fc.RecipientsPerMinute,
			RecipientsPerNet:  fc.RecipientsPerMinuteNetwork,
		},
	}
	if fc.Authentication {
		f.Auth = filter.MailAuth{Verifier: &mailauth.Verifier{
			Resolver:          resolver,
			Hostname:          cfg.Hostname,
			TrustedARCSealers: fc.TrustedARCSealers,
			Logger:            logger,
		}}
	}
	if fc.Clamd.Address != "" {
		f.Clamd = &filter.Clamd{Address: fc.Clamd.Address, Timeout: time.Duration(fc.Clamd.TimeoutSeconds) * time.Second,
			MaxSize: int64(fc.Clamd.MaxScanMiB) << 20, AttachmentsOnly: fc.Clamd.Scan == "attachments"}
	}
	if fc.Attachments.Enabled {
		f.Attachments = &filter.AttachmentPolicy{BlockedExtensions: fc.Attachments.BlockedExtensions}
	}
	if gs, ok := st.(store.GreylistStore); ok && fc.Greylist.Enabled {
		f.Greylist = &filter.Greylist{
			Store:  gs,
			Delay:  time.Duration(fc.Greylist.DelaySeconds) * time.Second,
			Expiry: time.Duration(fc.Greylist.ExpiryDays) * 24 * time.Hour,
			Logger: logger,
		}
	}
	if c := newSpamClassifier(fc.Spam, st, resolver, logger); c != nil {
		f.Spam = filter.Spam{Classifier: c}
	}
	logger.Info("inbound filter", "authentication", f.Auth != nil, "dmarc_reject", fc.DMARCReject,
		"spam", f.Spam != nil, "clamd", fc.Clamd.Address, "clamd_fail", fc.Clamd.Fail, "clamd_scan", fc.Clamd.Scan,
		"attachments", f.Attachments != nil, "greylist", f.Greylist != nil, "dnsbl", fc.DNSBL,
		"exempt", fc.ExemptNetworks)
	return f
}
