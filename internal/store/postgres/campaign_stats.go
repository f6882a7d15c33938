package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// CampaignStats counts the ledger and the events with a few GROUP BY queries in one read
// snapshot, so the numbers agree with each other.
func (s *Store) CampaignStats(ctx context.Context, campaignID int64) (store.CampaignStats, error) {
	st := store.CampaignStats{
		Recipients:    map[store.RecipientState]int64{},
		Events:        map[store.EventKind]store.EventCount{},
		SoftBouncedBy: map[store.RecipientState]int64{},
	}
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM campaigns WHERE id = $1`, campaignID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		for _, step := range []func(context.Context, pgx.Tx, int64, *store.CampaignStats) error{
			ledgerStats, eventStats, uniqueStats, linkStats, hourStats,
		} {
			if err := step(ctx, tx, campaignID, &st); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.CampaignStats{}, fmt.Errorf("stats of campaign %d: %w", campaignID, err)
	}
	return st, nil
}

func ledgerStats(ctx context.Context, tx pgx.Tx, id int64, st *store.CampaignStats) error {
	for _, state := range []store.RecipientState{store.RecipientPending, store.RecipientQueued,
		store.RecipientDelivered, store.RecipientDeferred, store.RecipientBounced, store.RecipientSkipped} {
		st.Recipients[state] = 0
		st.SoftBouncedBy[state] = 0
	}
	rows, err := tx.Query(ctx, `SELECT state, count(*), count(*) FILTER (WHERE soft_bounce) FROM campaign_recipients
		WHERE campaign_id = $1 GROUP BY state`, id)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return scanRows(rows, func(r scanner) error {
		var state string
		var n, soft int64
		if err := r.Scan(&state, &n, &soft); err != nil {
			return err
		}
		st.Recipients[store.RecipientState(state)] = n
		st.SoftBouncedBy[store.RecipientState(state)] = soft
		st.SoftBounced += soft
		return nil
	})
}

func eventStats(ctx context.Context, tx pgx.Tx, id int64, st *store.CampaignStats) error {
	rows, err := tx.Query(ctx, `SELECT kind, machine, count(*) FROM campaign_events WHERE campaign_id = $1
		GROUP BY kind, machine`, id)
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	return scanRows(rows, func(r scanner) error {
		var kind string
		var machine bool
		var n int64
		if err := r.Scan(&kind, &machine, &n); err != nil {
			return err
		}
		c := st.Events[store.EventKind(kind)]
		c.Add(machine, n)
		st.Events[store.EventKind(kind)] = c
		return nil
	})
}

func uniqueStats(ctx context.Context, tx pgx.Tx, id int64, st *store.CampaignStats) error {
	rows, err := tx.Query(ctx, `SELECT kind, machine, count(DISTINCT recipient_id) FROM campaign_events
		WHERE campaign_id = $1 AND recipient_id != 0 AND kind IN ('open', 'click') GROUP BY kind, machine`, id)
	if err != nil {
		return fmt.Errorf("unique events: %w", err)
	}
	err = scanRows(rows, func(r scanner) error {
		var kind string
		var machine bool
		var n int64
		if err := r.Scan(&kind, &machine, &n); err != nil {
			return err
		}
		if store.EventKind(kind) == store.EventOpen {
			st.UniqueOpens.Add(machine, n)
		} else {
			st.UniqueClicks.Add(machine, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = tx.QueryRow(ctx, `SELECT count(DISTINCT CASE WHEN kind = 'open' THEN recipient_id END),
		count(DISTINCT CASE WHEN kind = 'click' THEN recipient_id END) FROM campaign_events
		WHERE campaign_id = $1 AND recipient_id != 0 AND kind IN ('open', 'click')`, id).Scan(&st.OpenRecipients, &st.ClickRecipients)
	if err != nil {
		return fmt.Errorf("recipients with events: %w", err)
	}
	return nil
}

func linkStats(ctx context.Context, tx pgx.Tx, id int64, st *store.CampaignStats) error {
	rows, err := tx.Query(ctx, `SELECT l.idx, l.url, e.machine, count(e.id),
		count(DISTINCT CASE WHEN e.recipient_id != 0 THEN e.recipient_id END)
		FROM campaign_links l LEFT JOIN campaign_events e ON e.campaign_id = l.campaign_id AND e.kind = 'click'
			AND e.link_idx = l.idx
		WHERE l.campaign_id = $1 GROUP BY l.idx, l.url, e.machine ORDER BY l.idx`, id)
	if err != nil {
		return fmt.Errorf("links: %w", err)
	}
	err = scanRows(rows, func(r scanner) error {
		var idx int
		var url string
		var machine *bool
		var n, unique int64
		if err := r.Scan(&idx, &url, &machine, &n, &unique); err != nil {
			return err
		}
		if len(st.Links) == 0 || st.Links[len(st.Links)-1].Index != idx {
			st.Links = append(st.Links, store.LinkStats{Index: idx, URL: url})
		}
		l := &st.Links[len(st.Links)-1]
		if machine != nil {
			l.Clicks.Add(*machine, n)
			l.Unique.Add(*machine, unique)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `SELECT link_idx, count(DISTINCT recipient_id) FROM campaign_events
		WHERE campaign_id = $1 AND kind = 'click' AND recipient_id != 0 AND link_idx IS NOT NULL GROUP BY link_idx`, id)
	if err != nil {
		return fmt.Errorf("link recipients: %w", err)
	}
	return scanRows(rows, func(r scanner) error {
		var idx, n int64
		if err := r.Scan(&idx, &n); err != nil {
			return err
		}
		for i := range st.Links {
			if int64(st.Links[i].Index) == idx {
				st.Links[i].Recipients = n
			}
		}
		return nil
	})
}

func hourStats(ctx context.Context, tx pgx.Tx, id int64, st *store.CampaignStats) error {
	const hour = int64(time.Hour)
	rows, err := tx.Query(ctx, `SELECT at / $1 * $1 AS h, kind, machine, count(*) FROM campaign_events
		WHERE campaign_id = $2 AND kind IN ('open', 'click', 'delivered', 'bounce', 'unsubscribe', 'complaint')
		GROUP BY h, kind, machine ORDER BY h`, hour, id)
	if err != nil {
		return fmt.Errorf("hours: %w", err)
	}
	return scanRows(rows, func(r scanner) error {
		var h, n int64
		var kind string
		var machine bool
		if err := r.Scan(&h, &kind, &machine, &n); err != nil {
			return err
		}
		at := fromNanos(h).UTC()
		if len(st.Hours) == 0 || !st.Hours[len(st.Hours)-1].Hour.Equal(at) {
			st.Hours = append(st.Hours, store.HourStats{Hour: at})
		}
		st.Hours[len(st.Hours)-1].Add(store.EventKind(kind), machine, n)
		return nil
	})
}
