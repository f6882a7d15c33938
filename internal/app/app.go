// Package app is the composition root: it builds every service from the configuration, starts
// them in order and stops them in reverse order on shutdown. It is the one place where
// components meet; they know nothing of each other beyond the interfaces they are given.
//
// Start order: listeners bound, mail log opened, certificates read, then (started as root) the
// switch to server.user (privileges.go); data (store, blobs), orphan sweep, DKIM keys of domains without them,
// committer, authenticator, SMTP, submission, IMAP, POP3, HTTP and HTTPS servers, then the
// outbound queue scheduler, the campaign sender and the scheduled backups (backup.go).
// Shutdown (SIGTERM/SIGINT): listeners stop accepting, idle sessions are closed, transactions in
// flight get ShutdownGrace to finish, the queue finishes its SMTP transactions in flight (within
// the same grace), then the committer drains, the mail log writer stores the trace events it
// still holds (maillog.go) and the store closes.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"posthorn/internal/admin"
	"posthorn/internal/blob"
	"posthorn/internal/campaign"
	"posthorn/internal/certs"
	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/imapserver"
	plog "posthorn/internal/log"
	"posthorn/internal/metrics"
	"posthorn/internal/pop3server"
	"posthorn/internal/queue"
	"posthorn/internal/smtpserver"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
	"posthorn/internal/web"
)

// ShutdownGrace bounds how long transactions in flight may take after SIGTERM.
const ShutdownGrace = 10 * time.Second

// Data is the stored state of one data directory: metadata and message bodies.
type Data struct {
	Store store.Store
	Blobs *blob.FS
	// Credentials is Store as package credentials sees it: accounts, SCRAM keys, app
	// passwords, login sources.
	Credentials credentials.Store
}

// OpenData opens (creating if needed) the data directory of cfg. The admin CLI uses it while
// the server runs: SQLite's WAL lets both work on one database.
func OpenData(ctx context.Context, cfg config.Config) (*Data, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("create data_dir: %w", err)
	}
	st, err := sqlite.Open(ctx, DatabaseFile(cfg.DataDir))
	if err != nil {
		return nil, err
	}
	blobs, err := blob.OpenFS(BodiesDir(cfg.DataDir))
	if err != nil {
		return nil, errors.Join(err, st.Close())
	}
	return &Data{Store: st, Credentials: st, Blobs: blobs}, nil
}

// Close closes the store and the blob store.
func (d *Data) Close() error { return errors.Join(d.Blobs.Close(), d.Store.Close()) }

// Server is a running posthorn.
type Server struct {
	cfg       config.Config
	logger    *slog.Logger
	data      *Data
	committer *delivery.Committer
	// stopIndexer stops the full-text backlog indexer and waits for it.
	stopIndexer func()
	smtp        *smtpserver.Server
	submit      *smtpserver.Server // listen.submission and listen.submissions
	imap        *imapserver.Server
	pop3        *pop3server.Server
	queue       *queue.Scheduler // the outbound queue
	http        *http.Server     // listen.http
	https       *http.Server     // listen.https
	mailLog     io.Closer
	// stopTracker records the campaign events still buffered (campaign_web.go).
	stopTracker func()

	// stopSpamTrainer stops the spam trainer (spam.go) and waits for it.
	stopSpamTrainer func()
	// stopCampaignSender stops the campaign sender (campaign_sender.go) and waits for it.
	stopCampaignSender func()
	// stopCampaignWebhooks stops the webhook dispatcher (campaign_webhooks.go) and waits for it.
	stopCampaignWebhooks func()
	// stopMailEvents writes the mail log events still buffered for the trace (maillog.go).
	stopMailEvents func()
	// stopRetention stops the daily retention job (retention.go) and waits for a run under way.
	stopRetention func()
	// stopBackups cancels the scheduled backups (backup.go) and waits for them.
	stopBackups func()

	registry *metrics.Registry
	// campaignMetrics counts bulk mail's messages and events, for every campaign.Service.
	campaignMetrics *campaign.Metrics
	readiness       readiness // ready.go

	listeners []net.Listener
	bound     map[string]net.Listener // by config key, bound at start (bindAll)
	errs      chan error
}

// Listening is the set of bound addresses, for tests that listen on port 0.
type Listening struct {
	SMTP, IMAP, IMAPS, POP3, POP3S, HTTP, HTTPS string
	Submission, Submissions                     string
}

// Start opens the data, binds every configured listener and starts serving. Start-up errors
// (a port in use, a bad certificate) are returned before anything is served.
func Start(ctx context.Context, cfg config.Config, logger *slog.Logger) (*Server, Listening, error) {
	s := &Server{cfg: cfg, logger: logger, errs: make(chan error, 8)}
	var listening Listening
	ok := false
	defer func() {
		if !ok {
			s.closeAll()
		}
	}()

	who, err := privileges(cfg, logger)
	if err != nil {
		return nil, listening, err
	}
	// What needs root comes first: every listener is bound (ports below 1024), the mail log
	// opened, the certificate files read; then the server switches to server.user
	// (privileges.go) before it opens or creates anything in the data directory.
	if err := s.bindAll(cfg.Listen); err != nil {
		return nil, listening, err
	}
	mailLogger, closer, err := plog.OpenMailLog(cfg.Log, logger)
	if err != nil {
		return nil, listening, err
	}
	s.mailLog = closer
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, listening, fmt.Errorf("create data_dir: %w", err)
	}
	tlsSource, err := certs.Load(cfg.TLS, cfg.Hostname, cfg.DataDir)
	if err != nil {
		return nil, listening, err
	}
	if who != nil {
		if cfg.Log.MailLog != "" {
			// A restart opens it again, and log rotation may recreate it.
			if err := os.Chown(cfg.Log.MailLog, who.uid, who.gid); err != nil {
				return nil, listening, fmt.Errorf("log.mail_log: %w", err)
			}
		}
		if err := who.giveDataDir(cfg.DataDir); err != nil {
			return nil, listening, err
		}
		if err := who.switchTo(); err != nil {
			return nil, listening, err
		}
		logger.Info("switched user", "user", who.name, "uid", who.uid, "gid", who.gid)
	}
	if err := checkDataDir(cfg.DataDir); err != nil {
		return nil, listening, err
	}

	data, err := OpenData(ctx, cfg)
	if err != nil {
		return nil, listening, err
	}
	s.data = data
	tlsSource.ServeDomains(localDomain(data.Store))
	if b, ok := data.Store.(interface{ PreMigrationBackup() string }); ok && b.PreMigrationBackup() != "" {
		logger.Info("copied the database before migrating its schema", "backup", b.PreMigrationBackup())
	}
	ops := &admin.Admin{Store: data.Store, Credentials: data.Credentials, Blobs: data.Blobs}
	if err := sweepOrphans(ctx, ops, logger); err != nil {
		return nil, listening, err
	}
	// Before any listener answers: domains added before DKIM signing existed get their keys.
	if err := ensureDKIMKeys(ctx, ops, logger); err != nil {
		return nil, listening, err
	}
	registry := metrics.NewRegistry()
	s.registry = registry
	s.campaignMetrics = campaign.NewMetrics(registry)
	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registry.MustRegister(tlsSource.ExpiryMetric())
	mailLog := s.newMailLog(mailLogger, data.Store, registry)
	s.committer = delivery.New(data.Store, data.Blobs.Bodies(), logger.With("component", "delivery"))
	batches := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "posthorn_delivery_batch_size",
		Help:    "Deliveries per group commit (one fsync round and one transaction).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256},
	})
	registry.MustRegister(batches)
	s.committer.BatchSizes = func(n int) { batches.Observe(float64(n)) }
	s.startIndexer(registry)

	if cfg.Listen.SMTP != "" {
		l, err := s.listen("listen.smtp", cfg.Listen.SMTP)
		if err != nil {
			return nil, listening, err
		}
		listening.SMTP = l.Addr().String()
		s.smtp = &smtpserver.Server{
			Hostname:        cfg.Hostname,
			Store:           data.Store,
			Committer:       s.committer,
			Logger:          logger,
			MailLog:         mailLog,
			Metrics:         smtpserver.NewMetrics(registry),
			TLSConfig:       tlsSource.Config,
			MaxMessageBytes: int64(cfg.SMTP.MaxMessageSizeMiB) << 20,
			MaxRecipients:   cfg.SMTP.MaxRecipients,
			MaxConnections:  cfg.SMTP.MaxConnections,
			MaxPerAddress:   cfg.SMTP.MaxConnectionsPerAddress,
			Timeout:         time.Duration(cfg.SMTP.TimeoutSeconds) * time.Second,
			DefaultQuota:    cfg.Limits.DefaultQuotaMiB << 20,
			Filter:          newFilter(cfg, data.Store, logger, registry),
			// Bulk mail's bounces, complaints and mailto unsubscribes (campaign_feedback.go).
			SpecialRecipients: specialRecipients(cfg, data, logger, s.campaignMetrics),
		}
		s.serve("listen.smtp", func() error { return s.smtp.Serve(l) })
		s.startSpamTrainer(s.smtp.Filter)
	}
	// One authenticator for every protocol that logs in, so failed logins are throttled
	// across them (per IP and per account).
	authenticator := credentials.NewAuthenticator(data.Credentials, logger.With("component", "auth"), registry)
	authenticator.SetCacheTTL(time.Duration(cfg.Auth.CacheSeconds) * time.Second)
	sharedThrottle, sharedLeases := sharedState(data.Store)
	if sharedThrottle != nil {
		authenticator.SetSharedThrottle(sharedThrottle)
	}
	if cfg.Listen.Submission != "" || cfg.Listen.Submissions != "" {
		if s.submit, err = newSubmissionServer(cfg, data, s.committer, authenticator, tlsSource.Config,
			logger, mailLog, registry); err != nil {
			return nil, listening, err
		}
		s.noteCorrespondents()
	}
	if cfg.Listen.IMAP != "" || cfg.Listen.IMAPS != "" {
		s.imap = &imapserver.Server{
			Hostname:          cfg.Hostname,
			Store:             data.Store,
			Bodies:            data.Blobs.Bodies(),
			Committer:         s.committer,
			Auth:              authenticator,
			Logger:            logger,
			Metrics:           imapserver.NewMetrics(registry),
			TLSConfig:         tlsSource.Config,
			AllowInsecureAuth: cfg.IMAP.AllowPlaintextLoopback,
			AppendLimit:       int64(cfg.SMTP.MaxMessageSizeMiB) << 20,
			MaxConnections:    cfg.IMAP.MaxConnections,
			MaxPerAddress:     cfg.IMAP.MaxConnectionsPerAddress,
			LoginTimeout:      time.Duration(cfg.IMAP.LoginTimeoutSeconds) * time.Second,
			DefaultQuota:      cfg.Limits.DefaultQuotaMiB << 20,
		}
	}
	if cfg.Listen.POP3 != "" || cfg.Listen.POP3S != "" {
		s.pop3 = &pop3server.Server{
			Hostname:          cfg.Hostname,
			Store:             data.Store,
			Bodies:            data.Blobs.Bodies(),
			Auth:              authenticator,
			Logger:            logger,
			Metrics:           pop3server.NewMetrics(registry),
			TLSConfig:         tlsSource.Config,
			AllowInsecureAuth: cfg.POP3.AllowPlaintextLoopback,
			MaxConnections:    cfg.POP3.MaxConnections,
			MaxPerAddress:     cfg.POP3.MaxConnectionsPerAddress,
			LoginTimeout:      time.Duration(cfg.POP3.LoginTimeoutSeconds) * time.Second,
			Leases:            sharedLeases,
		}
	}
	for _, l := range []struct {
		key, addr string
		bound     *string
		serve     func(net.Listener) error
	}{
		{"listen.imap", cfg.Listen.IMAP, &listening.IMAP, s.imap.Serve},
		{"listen.imaps", cfg.Listen.IMAPS, &listening.IMAPS, s.imap.ServeTLS},
		{"listen.pop3", cfg.Listen.POP3, &listening.POP3, s.pop3.Serve},
		{"listen.pop3s", cfg.Listen.POP3S, &listening.POP3S, s.pop3.ServeTLS},
		{"listen.submission", cfg.Listen.Submission, &listening.Submission, s.submit.Serve},
		{"listen.submissions", cfg.Listen.Submissions, &listening.Submissions, s.submit.ServeTLS},
	} {
		// A server that is nil has no address here: its method values are never called.
		if l.addr == "" {
			continue
		}
		bound, err := s.listen(l.key, l.addr)
		if err != nil {
			return nil, listening, err
		}
		*l.bound = bound.Addr().String()
		s.serve(l.key, func() error { return l.serve(bound) })
	}
	if cfg.Listen.HTTP != "" || cfg.Listen.HTTPS != "" {
		access := web.MetricsAccess{Token: cfg.HTTP.MetricsToken}
		for _, n := range cfg.HTTP.MetricsNetworks {
			access.Networks = append(access.Networks, netip.MustParsePrefix(n)) // validated
		}
		campaignRoutes, err := s.campaignRoutes(cfg, data.Store, s.committer, logger)
		if err != nil {
			return nil, listening, err
		}
		apiRoutes, err := apiRoutes(cfg, data, s.committer, logger, s.campaignMetrics)
		if err != nil {
			return nil, listening, err
		}
		uiRoutes, err := uiRoutes(cfg, data.Store, authenticator, ops, logger)
		if err != nil {
			return nil, listening, err
		}
		health := web.Health{Store: data.Store, Ready: s.notReady}
		registerReadiness(registry, health, s)
		// One handler for both listeners: the same routes, counted together.
		handler := web.Instrument(web.Handler(registry, health, access, logger, campaignRoutes, apiRoutes,
			setupRoutes(cfg, data.Store, logger), uiRoutes), web.NewMetrics(registry))
		limits := web.Limits{
			MaxConnections: cfg.HTTP.MaxConnections,
			MaxPerAddress:  cfg.HTTP.MaxConnectionsPerAddress,
			ReadTimeout:    time.Duration(cfg.HTTP.ReadTimeoutSeconds) * time.Second,
			WriteTimeout:   time.Duration(cfg.HTTP.WriteTimeoutSeconds) * time.Second,
			IdleTimeout:    time.Duration(cfg.HTTP.IdleTimeoutSeconds) * time.Second,
		}
		if cfg.Listen.HTTP != "" {
			l, err := s.listen("listen.http", cfg.Listen.HTTP)
			if err != nil {
				return nil, listening, err
			}
			listening.HTTP = l.Addr().String()
			plain := handler
			if tlsSource.ACMEHandler != nil {
				plain = tlsSource.ACMEHandler(plain) // http-01 challenges (internal/certs)
			}
			s.http = web.NewServer(plain, limits, logger)
			s.serveHTTP("listen.http", s.http, web.Listener(l, limits))
		}
		if cfg.Listen.HTTPS != "" {
			l, err := s.listen("listen.https", cfg.Listen.HTTPS)
			if err != nil {
				return nil, listening, err
			}
			listening.HTTPS = l.Addr().String()
			// tls-alpn-01 challenges are answered in the handshake (certs.Source.HTTPSConfig).
			s.https = web.NewServer(web.HSTS(handler), limits, logger)
			s.serveHTTP("listen.https", s.https, web.TLSListener(l, limits, tlsSource.HTTPSConfig()))
		}
	}
	if err := s.startQueue(cfg, data, mailLog, registry); err != nil {
		return nil, listening, err
	}
	if err := s.startCampaignSender(); err != nil {
		return nil, listening, err
	}
	s.startCampaignWebhooks()
	if err := s.startRetention(registry); err != nil {
		return nil, listening, err
	}
	if err := s.startBackups(registry); err != nil {
		return nil, listening, err
	}
	logger.Info("posthorn started", "hostname", cfg.Hostname, "data_dir", cfg.DataDir,
		"smtp", listening.SMTP, "submission", listening.Submission, "submissions", listening.Submissions,
		"imap", listening.IMAP, "imaps", listening.IMAPS,
		"pop3", listening.POP3, "pop3s", listening.POP3S, "http", listening.HTTP, "https", listening.HTTPS,
		"max_message_size_mib", cfg.SMTP.MaxMessageSizeMiB, "default_quota_mib", cfg.Limits.DefaultQuotaMiB,
		"imap_allow_plaintext_loopback", cfg.IMAP.AllowPlaintextLoopback,
		"pop3_allow_plaintext_loopback", cfg.POP3.AllowPlaintextLoopback,
		"submission_allow_plaintext_loopback", cfg.Submission.AllowPlaintextLoopback,
		"send_per_hour", cfg.Limits.SendPerHour, "send_per_day", cfg.Limits.SendPerDay)
	ok = true
	return s, listening, nil
}

// serveHTTP serves srv on l under key; the end that Shutdown brings is no error.
func (s *Server) serveHTTP(key string, srv *http.Server, l net.Listener) {
	s.serve(key, func() error {
		err := srv.Serve(l)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		return err
	})
}

// bindAll binds every configured listener, before the server gives up root.
func (s *Server) bindAll(l config.Listen) error {
	s.bound = map[string]net.Listener{}
	for _, e := range listenerAddrs(l) {
		if e.addr == "" {
			continue
		}
		bound, err := net.Listen("tcp", e.addr)
		if err != nil {
			return fmt.Errorf("%s: %w", e.key, err)
		}
		s.listeners = append(s.listeners, bound)
		s.bound[e.key] = bound
	}
	return nil
}

// listen returns the listener bindAll bound for key.
func (s *Server) listen(key, addr string) (net.Listener, error) {
	l, ok := s.bound[key]
	if !ok {
		return nil, fmt.Errorf("%s: %q was not bound at start", key, addr)
	}
	return l, nil
}

// Wait blocks until ctx ends (a signal) or a listener fails, then shuts down gracefully.
func (s *Server) Wait(ctx context.Context) error {
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-s.errs:
		if serveErr != nil {
			s.logger.Error("listener failed", "err", serveErr)
		}
	}
	return errors.Join(serveErr, s.Shutdown())
}

// Shutdown stops the listeners, lets transactions in flight finish, and closes the data.
func (s *Server) Shutdown() error {
	s.logger.Info("shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	var errs []error
	for _, srv := range []*http.Server{s.http, s.https} {
		if srv != nil {
			errs = append(errs, srv.Shutdown(ctx))
		}
	}
	if s.stopTracker != nil {
		s.stopTracker() // its events, now that no request adds one
	}
	if s.smtp != nil {
		errs = append(errs, s.smtp.Shutdown(ctx))
		if f := s.smtp.Filter; f != nil && f.Clamd != nil {
			errs = append(errs, f.Clamd.Close()) // its idle IDSESSION connections
		}
	}
	if s.submit != nil {
		errs = append(errs, s.submit.Shutdown(ctx))
		s.submit.Submission.Flush() // the sending counts, before the store closes
	}
	if s.imap != nil {
		errs = append(errs, s.imap.Shutdown(ctx))
	}
	if s.pop3 != nil {
		errs = append(errs, s.pop3.Shutdown(ctx))
	}
	// The queue after the listeners: no new mail comes in, and what it sends is committed
	// before the committer closes.
	if s.queue != nil {
		errs = append(errs, s.queue.Shutdown(ctx))
	}
	s.closeAll()
	err := errors.Join(errs...)
	if err == nil {
		s.logger.Info("stopped")
	}
	return err
}

func (s *Server) closeAll() {
	for _, l := range s.listeners {
		_ = l.Close()
	}
	if s.stopTracker != nil {
		s.stopTracker() // a second call returns at once
	}
	if s.stopSpamTrainer != nil {
		s.stopSpamTrainer()
	}
	if s.stopIndexer != nil {
		s.stopIndexer()
	}
	if s.stopCampaignWebhooks != nil {
		s.stopCampaignWebhooks()
	}
	if s.stopRetention != nil {
		s.stopRetention() // a run under way stops at its next step, before the store closes
	}
	if s.stopBackups != nil {
		s.stopBackups()
	}
	if s.stopCampaignSender != nil {
		s.stopCampaignSender() // before the committer closes: the messages in hand are committed
	}
	if s.committer != nil {
		s.committer.Close()
	}
	if s.stopMailEvents != nil {
		s.stopMailEvents() // the last events, before the store closes
	}
	if s.data != nil {
		if err := s.data.Close(); err != nil {
			s.logger.Error("close store", "err", err)
		}
	}
	if s.mailLog != nil {
		_ = s.mailLog.Close()
	}
}
