package campaign

import (
	"context"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/store"
)

// eventStore records AddEvents, failing when told to; nothing else of the store is used.
type eventStore struct {
	store.CampaignStore
	fail error
}

func (s *eventStore) AddEvents(context.Context, []store.Event) error { return s.fail }

// TestEventMetrics: recorded events are counted by kind; events the store refused are not.
func TestEventMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	st := &eventStore{}
	svc := &Service{Store: st, Metrics: m}
	ctx := context.Background()
	if err := svc.addEvents(ctx, []store.Event{{Kind: store.EventOpen}, {Kind: store.EventOpen}, {Kind: store.EventClick}}); err != nil {
		t.Fatal(err)
	}
	st.fail = errors.New("disk full")
	if err := svc.addEvents(ctx, []store.Event{{Kind: store.EventOpen}}); err == nil {
		t.Fatal("the store's error was lost")
	}
	if got := testutil.ToFloat64(m.events.WithLabelValues("open")); got != 2 {
		t.Errorf("open events = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.events.WithLabelValues("click")); got != 1 {
		t.Errorf("click events = %v, want 1", got)
	}
	m.messageSent("bulk")
	if got := testutil.ToFloat64(m.sent.WithLabelValues("bulk")); got != 1 {
		t.Errorf("bulk sends = %v, want 1", got)
	}
	(*Metrics)(nil).messageSent("bulk") // a nil *Metrics counts nothing, without a panic
	(&Service{Store: &eventStore{}}).addEvents(ctx, []store.Event{{Kind: store.EventOpen}})
}
