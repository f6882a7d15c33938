package app

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// newMailLog returns the mail log every service writes through: its lines go to mailLogger as
// before, and its events to a maillog.Writer into the store's MailEventStore, for the message
// trace. s.stopMailEvents writes what the Writer still holds, at shutdown before the store
// closes. A store without a MailEventStore gets the log lines only.
func (s *Server) newMailLog(mailLogger *slog.Logger, st store.Store, reg prometheus.Registerer) *maillog.Logger {
	ml := maillog.New(mailLogger)
	es, ok := st.(store.MailEventStore)
	if !ok {
		return ml
	}
	w := maillog.NewWriter(mailEventStore{es}, s.logger.With("component", "maillog"), maillog.WriterOptions{})
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "posthorn_maillog_events_stored_total",
			Help: "Mail log events stored for the message trace.",
		}, func() float64 { return float64(w.Written()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "posthorn_maillog_events_dropped_total",
			Help: "Mail log events the message trace lost: the writer's queue was full or the store refused a batch.",
		}, func() float64 { return float64(w.Dropped()) }),
	)
	s.stopMailEvents = w.Close
	return ml.Recording(w)
}

// mailEventStore adapts a store.MailEventStore to the maillog.EventStore of the Writer.
type mailEventStore struct{ st store.MailEventStore }

func (m mailEventStore) AddMailEvents(ctx context.Context, batch []maillog.Entry) error {
	events := make([]store.MailEvent, len(batch))
	for i, e := range batch {
		events[i] = store.MailEvent{
			Time: e.Time, Event: e.Event.Event, BlobID: e.ID, MsgID: e.MsgID, From: e.From, Rcpt: e.Rcpt,
			Result: e.Result, Code: e.Code, Remote: e.Remote, Size: e.Size, Conn: e.Conn, Reasons: e.Reasons,
		}
		for _, mb := range e.Mailboxes {
			events[i].Mailboxes = append(events[i].Mailboxes, store.MailEventMailbox{Account: mb.Account, Mailbox: mb.Name})
		}
	}
	return m.st.AddMailEvents(ctx, events)
}
