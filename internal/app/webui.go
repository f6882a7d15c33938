package app

import (
	"fmt"
	"log/slog"
	"net/http"

	"posthorn/internal/admin"
	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
	"posthorn/internal/web"
	"posthorn/internal/web/ui"
	"posthorn/internal/websession"
)

// uiRoutes builds the web UI (internal/web/ui) for the HTTP listener: its logins go through
// the authenticator of the mail protocols (one throttling for all), its operations through
// ops, and the Apple profile it offers follows the configured listeners (ClientServices).
// With http.ui off it adds no routes.
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
	s, err := ui.New(ui.Config{
		Sessions: &websession.Service{Store: ws, Auth: authenticator, Passwords: ops, Issuer: "posthorn " + cfg.Hostname,
			Logger: logger},
		AppPasswords: ops,
		Services:     ClientServices(cfg),
		Logger:       logger,
	})
	if err != nil {
		return nil, err
	}
	return s.Routes(), nil
}
