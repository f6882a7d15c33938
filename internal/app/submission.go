package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/mailauth"
	"posthorn/internal/maillog"
	"posthorn/internal/smtpserver"
	"posthorn/internal/store"
)

// newSubmissionServer builds the server behind listen.submission and listen.submissions.
func newSubmissionServer(cfg config.Config, data *Data, committer *delivery.Committer,
	authenticator *credentials.Authenticator, tlsConfig *tls.Config, logger *slog.Logger, mailLog *maillog.Logger,
	reg prometheus.Registerer) (*smtpserver.Server, error) {
	subStore, ok := data.Store.(store.SubmissionStore)
	if !ok {
		return nil, errors.New("listen.submission: the store keeps no submission data")
	}
	return &smtpserver.Server{
		Hostname:        cfg.Hostname,
		Store:           data.Store,
		Blobs:           data.Blobs,
		Committer:       committer,
		Analyze:         analyze,
		Logger:          logger,
		MailLog:         mailLog,
		Metrics:         smtpserver.NewSubmissionMetrics(reg),
		TLSConfig:       tlsConfig,
		MaxMessageBytes: int64(cfg.SMTP.MaxMessageSizeMiB) << 20,
		MaxRecipients:   cfg.SMTP.MaxRecipients,
		MaxConnections:  cfg.SMTP.MaxConnections,
		MaxPerAddress:   cfg.SMTP.MaxConnectionsPerAddress,
		Timeout:         time.Duration(cfg.SMTP.TimeoutSeconds) * time.Second,
		DefaultQuota:    cfg.Limits.DefaultQuotaMiB << 20,
		Submission: &smtpserver.Submission{
			Auth:              authenticator,
			Store:             subStore,
			AllowInsecureAuth: cfg.Submission.AllowPlaintextLoopback,
			LoginTimeout:      time.Duration(cfg.Submission.LoginTimeoutSeconds) * time.Second,
			PerHour:           cfg.Limits.SendPerHour,
			PerDay:            cfg.Limits.SendPerDay,
		},
	}, nil
}

// EnsureDKIMKeys gives every domain without DKIM keys its pair (see mailauth.GenerateDKIMKeys).
func EnsureDKIMKeys(ctx context.Context, data *Data, logger *slog.Logger) error {
	subStore, ok := data.Store.(store.SubmissionStore)
	if !ok {
		return nil
	}
	domains, err := data.Store.ListDomains(ctx)
	if err != nil {
		return err
	}
	for _, d := range domains {
		existing, err := subStore.DKIMKeys(ctx, d.Name)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			continue
		}
		if _, err := mailauth.EnsureDKIMKeys(ctx, subStore, d.Name, time.Now()); err != nil {
			return fmt.Errorf("dkim keys of %s: %w", d.Name, err)
		}
		logger.Info("generated DKIM keys", "domain", d.Name)
	}
	return nil
}

// AddDomain adds a local domain with its DKIM keys.
func AddDomain(ctx context.Context, data *Data, name string) ([]store.DKIMKey, error) {
	if _, err := data.Store.AddDomain(ctx, name); err != nil {
		return nil, err
	}
	subStore, ok := data.Store.(store.SubmissionStore)
	if !ok {
		return nil, nil
	}
	return mailauth.EnsureDKIMKeys(ctx, subStore, name, time.Now())
}
