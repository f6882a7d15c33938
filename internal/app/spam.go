package app

import (
	"context"
	"log/slog"
	"time"

	"posthorn/internal/config"
	"posthorn/internal/dns"
	"posthorn/internal/filter"
	"posthorn/internal/filter/spam"
	"posthorn/internal/store"
)

// newSpamClassifier builds the classifier of [filter.spam]; nil when it is disabled or the
// store keeps no spam models.
func newSpamClassifier(sc config.FilterSpam, st store.Store, resolver dns.Resolver, logger *slog.Logger) *spam.Classifier {
	model, ok := st.(store.SpamModel)
	if !ok || !sc.Enabled {
		return nil
	}
	lists, _ := st.(store.SpamLists)
	seen, _ := st.(store.Correspondents)
	// The cache spares most SQL lookups per message; the trainer empties it after training.
	return spam.New(spam.NewCachedModel(model), lists, seen, resolver, spam.Config{
		JunkThreshold:   sc.JunkThreshold,
		RejectThreshold: sc.RejectThreshold,
		DNSBLZones:      sc.DNSBL,
		URIBLZones:      sc.URIBL,
	}, logger.With("component", "spam"))
}

// noteCorrespondents tells the MX's spam classifier whom each account sends mail to through
// submission, so that their replies are not scored as from first-time senders.
func (s *Server) noteCorrespondents() {
	if s.smtp == nil || s.smtp.Filter == nil || s.submit == nil || s.submit.Submission == nil {
		return
	}
	if sp, ok := s.smtp.Filter.Spam.(filter.Spam); ok && sp.Classifier != nil {
		s.submit.Submission.Sent = sp.Classifier.NoteSent
	}
}

// startSpamTrainer learns from users' moves into and out of Junk while the server runs, with
// the classifier of the MX filter f (whose buffered correspondents it writes). Nothing runs
// without a classifier; the moves wait in the store until one does.
func (s *Server) startSpamTrainer(f *filter.Filter) {
	if f == nil {
		return
	}
	sp, ok := f.Spam.(filter.Spam)
	feed, feedOK := s.data.Store.(store.JunkMoveFeed)
	if !ok || sp.Classifier == nil || !feedOK {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t := &spam.Trainer{
		Feed:       feed,
		Blobs:      s.data.Blobs,
		Classifier: sp.Classifier,
		Interval:   time.Duration(s.cfg.Filter.Spam.TrainIntervalSeconds) * time.Second,
		Logger:     s.logger.With("component", "spam-trainer"),
	}
	go func() {
		defer close(done)
		_ = t.Run(ctx)
	}()
	s.stopSpamTrainer = func() {
		cancel()
		<-done
	}
}
