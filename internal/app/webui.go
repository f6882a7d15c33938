package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"posthorn/internal/admin"
	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/gdpr"
	"posthorn/internal/mailtrace"
	"posthorn/internal/store"
	"posthorn/internal/web"
	"posthorn/internal/web/ui"
	"posthorn/internal/websession"
)

// uiRoutes builds the web UI (internal/web/ui) for the HTTP listener: its logins go through
// the authenticator of the mail protocols (one throttling for all), its operations through
// ops (for the admin pages with the server's resolver and spam settings, as the CLI's), the
// self-service export through gdpr over the same store and operations, and the Apple profile
// it offers follows the configured listeners (ClientServices); its campaign pages read the
// campaign service over the same store. With
// http.ui off it adds no routes.
func uiRoutes(cfg config.Config, st store.Store, authenticator *credentials.Authenticator, ops *admin.Admin,
	logger *slog.Logger) (web.Routes, error) {
	if !cfg.HTTP.UI {
		return func(*http.ServeMux) {}, nil
	}
	ws, ok := st.(websession.Store)
	if !ok {
		return nil, fmt.Errorf("the store keeps no web sessions")
	}
	logger = logger.With("component", "ui")
	// The admin pages check DNS records and explain spam scores as the CLI does: with the
	// server's resolver and the classifier's configuration.
	pages := checkingAdmin(cfg, *ops)
	var campaigns ui.Campaigns // the campaign pages read the campaign service's numbers
	if cs, ok := st.(store.CampaignStore); ok {
		campaigns = &campaign.Service{Store: cs}
	}
	uiCfg := ui.Config{
		Sessions: &websession.Service{Store: ws, Auth: authenticator, Passwords: ops, Issuer: "posthorn " + cfg.Hostname,
			Logger: logger},
		AppPasswords: ops,
		Services:     ClientServices(cfg),
		Operations:   pages,
		DNS:          DNSSetup(cfg),
		Exports:      &gdpr.Service{Store: st, Bodies: ops.Blobs, Accounts: ops},
		Logger:       logger,
		Campaigns:    campaigns,
	}
	// The message trace over the mail log newMailLog stores, and the audit log, when the
	// store keeps them (the interfaces stay nil otherwise, and their pages are not served).
	if es, ok := st.(store.MailEventStore); ok {
		uiCfg.Trace = &mailtrace.Tracer{Store: es}
	}
	if al, err := ops.Audit(); err == nil {
		uiCfg.Audit = al
	}
	s, err := ui.New(uiCfg)
	if err != nil {
		return nil, err
	}
	return s.Routes(), nil
}
