package app

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
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
		Committer:       committer,
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
