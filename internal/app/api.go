package app

import (
	"fmt"
	"log/slog"

	"posthorn/internal/admin"
	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/dns"
	"posthorn/internal/filter/spam"
	"posthorn/internal/gdpr"
	"posthorn/internal/mailtrace"
	"posthorn/internal/store"
	"posthorn/internal/web"
	"posthorn/internal/web/api"
)

// apiRoutes builds the JSON API (internal/web/api) over the data directory's operations and returns
// its routes for the HTTP listener; POST /api/v1/send sends through the same Outbox as
// campaigns. Campaigns it starts are sent by the server's send loop
// (campaign_sender.go), which finds them within its poll interval.
func apiRoutes(cfg config.Config, data *Data, committer *delivery.Committer, logger *slog.Logger,
	m *campaign.Metrics) (web.Routes, error) {
	st := data.Store
	cs, ok := st.(store.CampaignStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no campaigns")
	}
	outboxStore, ok := st.(campaign.OutboxStore)
	if !ok {
		return nil, fmt.Errorf("the store keeps no DKIM keys")
	}
	grants, ok := st.(store.SendAsLister)
	if !ok {
		return nil, fmt.Errorf("the store keeps no send-as grants")
	}
	var tracer *mailtrace.Tracer // the message trace, over the mail log newMailLog stores
	if es, ok := st.(store.MailEventStore); ok {
		tracer = &mailtrace.Tracer{Store: es}
	}
	service := &campaign.Service{Store: cs, Metrics: m}
	outbox := &campaign.Outbox{Store: outboxStore, Committer: committer}
	logger = logger.With("component", "api")
	ops := checkingAdmin(cfg, admin.Admin{Store: data.Store, Credentials: data.Credentials, Blobs: data.Blobs})
	ret, err := NewRetention(cfg, data, logger, nil)
	if err != nil {
		return nil, err
	}
	a := api.New(api.Config{
		Tokens:    &admin.Tokens{Store: st},
		Campaigns: service,
		Sender:    &campaign.Sender{Service: service, Outbox: outbox, PublicURL: cfg.Campaign.PublicURL, Logger: logger},
		Transactional: &campaign.Transactional{Service: service, Outbox: outbox, Grants: grants,
			PublicURL: cfg.Campaign.PublicURL, Logger: logger},
		Trace:     tracer,
		GDPR:      &gdpr.Service{Store: data.Store, Bodies: data.Blobs, Accounts: ops},
		Retention: ret,
		Admin:     ops,
		DNS:       DNSSetup(cfg),
		Logger:    logger,
	})
	return a.Routes(), nil
}

// checkingAdmin is ops with the server's resolver and the classifier's configuration, with
// which the DNS check and the spam explanation of the web UI and the API work as the CLI's.
func checkingAdmin(cfg config.Config, ops admin.Admin) *admin.Admin {
	ops.Resolver = dns.New(cfg.DNS.Resolver)
	sc := cfg.Filter.Spam
	ops.Spam = spam.Config{JunkThreshold: sc.JunkThreshold, RejectThreshold: sc.RejectThreshold,
		DNSBLZones: sc.DNSBL, URIBLZones: sc.URIBL}
	return &ops
}

// DNSSetup is what the DNS records of cfg's domains point at (admin.DNSRecords): the host
// name, the listeners and the MTA-STS policy the http listener serves.
func DNSSetup(cfg config.Config) admin.DNSSetup {
	return admin.DNSSetup{Hostname: cfg.Hostname, Listen: cfg.Listen, Policy: MTASTSPolicy(cfg)}
}
