package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"posthorn/internal/certs"
	"posthorn/internal/config"
	"posthorn/internal/store"
	"posthorn/internal/web"
	"posthorn/internal/wellknown"
)

// ClientServices are the client-facing listeners of cfg as autoconfig and autodiscover
// advertise them, at cfg.Hostname.
func ClientServices(cfg config.Config) wellknown.Services {
	l := cfg.Listen
	return wellknown.Services{Hostname: cfg.Hostname,
		IMAPS: wellknown.ServiceOf(l.IMAPS, true), IMAP: wellknown.ServiceOf(l.IMAP, false),
		POP3S: wellknown.ServiceOf(l.POP3S, true), POP3: wellknown.ServiceOf(l.POP3, false),
		Submissions: wellknown.ServiceOf(l.Submissions, true), Submission: wellknown.ServiceOf(l.Submission, false)}
}

// MTASTSPolicy is the policy of [mta_sts], with cfg.Hostname the one MX host (the MX record
// "posthorn domain dns" prints).
func MTASTSPolicy(cfg config.Config) wellknown.Policy {
	return wellknown.MTASTSPolicy(cfg.MTASTS.Mode, []string{cfg.Hostname}, time.Duration(cfg.MTASTS.MaxAgeSeconds)*time.Second)
}

// setupRoutes are the autoconfig, autodiscover and MTA-STS endpoints of the http listener.
func setupRoutes(cfg config.Config, st store.Store, logger *slog.Logger) web.Routes {
	return web.SetupRoutes(st, web.Setup{Services: ClientServices(cfg), Policy: MTASTSPolicy(cfg)},
		logger.With("component", "setup"))
}

// localDomain answers the ACME host policy (internal/certs) from the store at the time of the
// request, so the set-up names of a domain added while running get certificates.
func localDomain(st store.Store) certs.LocalDomain {
	return func(ctx context.Context, name string) (bool, error) {
		_, err := st.GetDomain(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	}
}
