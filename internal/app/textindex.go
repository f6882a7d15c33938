package app

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/store"
	"posthorn/internal/textindex"
)

// startIndexer runs the full-text backlog indexer (internal/textindex) for the messages SMTP
// delivered without their text, until closeAll stops it.
func (s *Server) startIndexer(registry prometheus.Registerer) {
	backlog, ok := s.data.Store.(store.TextBacklog)
	if !ok {
		return
	}
	indexed := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "posthorn_text_index_backlog_indexed_total",
		Help: "Messages whose text the background indexer added to the full-text index.",
	})
	registry.MustRegister(indexed)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	x := &textindex.Indexer{
		Backlog: backlog,
		Bodies:  s.data.Blobs,
		Logger:  s.logger.With("component", "textindex"),
		Indexed: func(n int) { indexed.Add(float64(n)) },
	}
	go func() {
		defer close(done)
		x.Run(ctx)
	}()
	s.stopIndexer = func() {
		cancel()
		<-done
	}
}
