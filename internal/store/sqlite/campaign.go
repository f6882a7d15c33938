package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/store"
)

var _ store.CampaignStore = (*Store)(nil)

// notFound turns sql.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// nanosOrNil stores a zero time as NULL.
func nanosOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}

const listColumns = `SELECT id, name, description, opt_in, created_at FROM lists`

func scanList(r scanner) (store.List, error) {
	var l store.List
	var created int64
	err := r.Scan(&l.ID, &l.Name, &l.Description, &l.OptIn, &created)
	l.CreatedAt = fromNanos(created)
	return l, err
}

// CreateList adds a list.
func (s *Store) CreateList(ctx context.Context, l store.List) (store.List, error) {
	created := s.nowNanos()
	err := s.write.QueryRowContext(ctx, `INSERT INTO lists (name, description, opt_in, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`,
		l.Name, l.Description, string(l.OptIn), created).Scan(&l.ID)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrExists
	}
	if err != nil {
		return store.List{}, fmt.Errorf("create list %q: %w", l.Name, err)
	}
	l.CreatedAt = fromNanos(created)
	return l, nil
}

// GetList returns a list by name.
func (s *Store) GetList(ctx context.Context, name string) (store.List, error) {
	l, err := scanList(s.read.QueryRowContext(ctx, listColumns+` WHERE name = ?`, name))
	if err != nil {
		return store.List{}, fmt.Errorf("list %q: %w", name, notFound(err))
	}
	return l, nil
}

// GetListByID returns a list by id.
func (s *Store) GetListByID(ctx context.Context, id int64) (store.List, error) {
	l, err := scanList(s.read.QueryRowContext(ctx, listColumns+` WHERE id = ?`, id))
	if err != nil {
		return store.List{}, fmt.Errorf("list %d: %w", id, notFound(err))
	}
	return l, nil
}

// ListLists returns every list by name.
func (s *Store) ListLists(ctx context.Context) ([]store.List, error) {
	rows, err := s.read.QueryContext(ctx, listColumns+` ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list lists: %w", err)
	}
	out, err := collect(rows, scanList)
	if err != nil {
		return nil, fmt.Errorf("list lists: %w", err)
	}
	return out, nil
}

// DeleteList deletes a list; its subscriptions go by cascade.
func (s *Store) DeleteList(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, fmt.Sprintf("delete list %d", id), `DELETE FROM lists WHERE id = ?`, id)
}

// deleteOne runs a DELETE that must remove one row.
func (s *Store) deleteOne(ctx context.Context, what, query string, args ...any) error {
	res, err := s.write.ExecContext(ctx, query, args...)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// CountSubscriptions counts a list's subscriptions per status, from index
// list_subscriptions_list.
func (s *Store) CountSubscriptions(ctx context.Context, listID int64) (map[store.SubscriptionStatus]int64, error) {
	if _, err := s.GetListByID(ctx, listID); err != nil {
		return nil, err
	}
	out := map[store.SubscriptionStatus]int64{
		store.StatusUnconfirmed: 0, store.StatusConfirmed: 0, store.StatusUnsubscribed: 0,
	}
	rows, err := s.read.QueryContext(ctx, `SELECT status, count(*) FROM list_subscriptions WHERE list_id = ?
		GROUP BY status`, listID)
	if err != nil {
		return nil, fmt.Errorf("count subscriptions of list %d: %w", listID, err)
	}
	err = scanRows(rows, func(r scanner) error {
		var status string
		var n int64
		if err := r.Scan(&status, &n); err != nil {
			return err
		}
		out[store.SubscriptionStatus(status)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count subscriptions of list %d: %w", listID, err)
	}
	return out, nil
}

const subscriberColumns = `SELECT s.id, s.address, s.name, s.attributes, s.created_at, s.updated_at FROM subscribers s`

func scanSubscriber(r scanner, extra ...any) (store.Subscriber, error) {
	var sub store.Subscriber
	var attrs string
	var created, updated int64
	if err := r.Scan(append([]any{&sub.ID, &sub.Address, &sub.Name, &attrs, &created, &updated}, extra...)...); err != nil {
		return sub, err
	}
	sub.CreatedAt, sub.UpdatedAt = fromNanos(created), fromNanos(updated)
	var err error
	sub.Attributes, err = store.DecodeAttributes(attrs)
	return sub, err
}

// SaveSubscriber creates or updates the subscriber of an address.
func (s *Store) SaveSubscriber(ctx context.Context, sub store.Subscriber) (store.Subscriber, error) {
	var saved store.Subscriber
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		saved, err = saveSubscriber(ctx, tx, sub, s.nowNanos())
		return err
	})
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("save subscriber %s: %w", sub.Address, err)
	}
	return saved, nil
}

// saveSubscriberSQL creates or updates the subscriber of an address and returns its row.
const saveSubscriberSQL = `INSERT INTO subscribers (address, name, attributes, created_at, updated_at)
	VALUES (?1, ?2, ?3, ?4, ?4) ON CONFLICT (address) DO UPDATE SET name = excluded.name,
	attributes = excluded.attributes, updated_at = excluded.updated_at
	RETURNING id, created_at, updated_at`

func saveSubscriber(ctx context.Context, tx *sql.Tx, sub store.Subscriber, now int64) (store.Subscriber, error) {
	save, err := tx.PrepareContext(ctx, saveSubscriberSQL)
	if err != nil {
		return store.Subscriber{}, err
	}
	defer save.Close()
	return saveSubscriberWith(ctx, save, sub, now)
}

// saveSubscriberWith runs saveSubscriberSQL prepared as save; the result is sub with its id
// and times (the attributes as given, not read back).
func saveSubscriberWith(ctx context.Context, save *sql.Stmt, sub store.Subscriber, now int64) (store.Subscriber, error) {
	attrs, err := store.EncodeAttributes(sub.Attributes)
	if err != nil {
		return store.Subscriber{}, err
	}
	var created, updated int64
	if err := save.QueryRowContext(ctx, sub.Address, sub.Name, attrs, now).Scan(&sub.ID, &created, &updated); err != nil {
		return store.Subscriber{}, err
	}
	if sub.Attributes == nil {
		sub.Attributes = map[string]any{}
	}
	sub.CreatedAt, sub.UpdatedAt = fromNanos(created), fromNanos(updated)
	return sub, nil
}

// GetSubscriber returns a subscriber by address.
func (s *Store) GetSubscriber(ctx context.Context, address string) (store.Subscriber, error) {
	sub, err := scanSubscriber(s.read.QueryRowContext(ctx, subscriberColumns+` WHERE s.address = ?`, address))
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("subscriber %s: %w", address, notFound(err))
	}
	return sub, nil
}

// GetSubscriberByID returns a subscriber by id.
func (s *Store) GetSubscriberByID(ctx context.Context, id int64) (store.Subscriber, error) {
	sub, err := scanSubscriber(s.read.QueryRowContext(ctx, subscriberColumns+` WHERE s.id = ?`, id))
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("subscriber %d: %w", id, notFound(err))
	}
	return sub, nil
}

// ListSubscribers returns a page of subscribers in id order, of one list or of all.
func (s *Store) ListSubscribers(ctx context.Context, q store.SubscriberQuery) ([]store.SubscriberEntry, error) {
	var rows *sql.Rows
	var err error
	if q.ListID == 0 {
		rows, err = s.read.QueryContext(ctx, subscriberColumns+` WHERE s.id > ? ORDER BY s.id LIMIT ?`,
			q.AfterID, store.PageLimit(q.Limit))
	} else {
		if _, err := s.GetListByID(ctx, q.ListID); err != nil {
			return nil, err
		}
		rows, err = s.read.QueryContext(ctx, `SELECT s.id, s.address, s.name, s.attributes, s.created_at,
			s.updated_at, `+subscriptionFields+` FROM list_subscriptions l JOIN subscribers s ON s.id = l.subscriber_id
			WHERE l.list_id = ? AND l.subscriber_id > ? ORDER BY l.subscriber_id LIMIT ?`, q.ListID, q.AfterID, store.PageLimit(q.Limit))
	}
	if err != nil {
		return nil, fmt.Errorf("list subscribers: %w", err)
	}
	out, err := collect(rows, func(r scanner) (store.SubscriberEntry, error) {
		var e store.SubscriberEntry
		if q.ListID == 0 {
			sub, err := scanSubscriber(r)
			e.Subscriber = sub
			return e, err
		}
		var fields subscriptionScan
		sub, err := scanSubscriber(r, fields.dest()...)
		e.Subscriber, e.Subscription = sub, fields.subscription()
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list subscribers: %w", err)
	}
	return out, nil
}

// DeleteSubscriber deletes a subscriber; subscriptions go by cascade, ledger rows lose it.
func (s *Store) DeleteSubscriber(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, fmt.Sprintf("delete subscriber %d", id), `DELETE FROM subscribers WHERE id = ?`, id)
}

// subscriptionFields are the columns of list_subscriptions l that subscriptionScan reads.
const subscriptionFields = `l.subscriber_id, l.list_id, l.status, l.consent_at, l.consent_source, l.consent_ip,
	l.consent_text, l.tracking_consent, l.updated_at`

// subscriptionScan holds the scanned columns of subscriptionFields.
type subscriptionScan struct {
	sub            store.Subscription
	at, updated    int64
	status, source string
}

func (f *subscriptionScan) dest() []any {
	return []any{&f.sub.SubscriberID, &f.sub.ListID, &f.status, &f.at, &f.source, &f.sub.Consent.IP,
		&f.sub.Consent.Text, &f.sub.Consent.Tracking, &f.updated}
}

func (f *subscriptionScan) subscription() store.Subscription {
	sub := f.sub
	sub.Status, sub.Consent.Source = store.SubscriptionStatus(f.status), store.ConsentSource(f.source)
	sub.Consent.At, sub.UpdatedAt = fromNanos(f.at), fromNanos(f.updated)
	return sub
}

// SubscribeToList saves the subscribers and their subscriptions to the list in one transaction. The
// ON CONFLICT clause keeps the two rules of store.CampaignStore.SubscribeToList.
func (s *Store) SubscribeToList(ctx context.Context, listID int64, reqs []store.SubscribeRequest) ([]store.Subscriber, error) {
	out := make([]store.Subscriber, 0, len(reqs))
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM lists WHERE id = ?`, listID).Scan(&exists); err != nil {
			return err
		}
		if exists == 0 {
			return fmt.Errorf("list %d: %w", listID, store.ErrNotFound)
		}
		upsert, err := tx.PrepareContext(ctx, `INSERT INTO list_subscriptions (subscriber_id, list_id, status,
			consent_at, consent_source, consent_ip, consent_text, tracking_consent, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (subscriber_id, list_id) DO UPDATE SET
			status = excluded.status, consent_at = excluded.consent_at, consent_source = excluded.consent_source,
			consent_ip = excluded.consent_ip, consent_text = excluded.consent_text,
			tracking_consent = excluded.tracking_consent, updated_at = excluded.updated_at
			WHERE NOT (status = 'unsubscribed' AND excluded.consent_source = 'import')
			AND NOT (status = 'confirmed' AND excluded.status = 'unconfirmed')`)
		if err != nil {
			return err
		}
		defer upsert.Close()
		save, err := tx.PrepareContext(ctx, saveSubscriberSQL)
		if err != nil {
			return err
		}
		defer save.Close()
		now := s.nowNanos()
		for _, r := range reqs {
			sub, err := saveSubscriberWith(ctx, save, r.Subscriber, now)
			if err != nil {
				return fmt.Errorf("subscriber %s: %w", r.Subscriber.Address, err)
			}
			if _, err := upsert.ExecContext(ctx, sub.ID, listID, string(r.Status), r.Consent.At.UnixNano(),
				string(r.Consent.Source), r.Consent.IP, r.Consent.Text, r.Consent.Tracking, now); err != nil {
				return fmt.Errorf("subscribe %s: %w", sub.Address, err)
			}
			out = append(out, sub)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe to list %d: %w", listID, err)
	}
	return out, nil
}

// SetSubscriptionStatus changes one subscription's status and consent record.
func (s *Store) SetSubscriptionStatus(ctx context.Context, subscriberID, listID int64, status store.SubscriptionStatus, c store.Consent) error {
	res, err := s.write.ExecContext(ctx, `UPDATE list_subscriptions SET status = ?, consent_at = ?, consent_source = ?,
		consent_ip = ?, consent_text = ?, tracking_consent = ?, updated_at = ? WHERE subscriber_id = ? AND list_id = ?`,
		string(status), c.At.UnixNano(), string(c.Source), c.IP, c.Text, c.Tracking, s.nowNanos(), subscriberID, listID)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("subscription of %d to list %d: %w", subscriberID, listID, err)
	}
	return nil
}

// GetSubscription returns one subscription.
func (s *Store) GetSubscription(ctx context.Context, subscriberID, listID int64) (store.Subscription, error) {
	var f subscriptionScan
	err := s.read.QueryRowContext(ctx, `SELECT `+subscriptionFields+` FROM list_subscriptions l
		WHERE l.subscriber_id = ? AND l.list_id = ?`, subscriberID, listID).Scan(f.dest()...)
	if err != nil {
		return store.Subscription{}, fmt.Errorf("subscription of %d to list %d: %w", subscriberID, listID, notFound(err))
	}
	return f.subscription(), nil
}

// SubscriptionsOf returns a subscriber's subscriptions by list id.
func (s *Store) SubscriptionsOf(ctx context.Context, subscriberID int64) ([]store.Subscription, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+subscriptionFields+` FROM list_subscriptions l
		WHERE l.subscriber_id = ? ORDER BY l.list_id`, subscriberID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %d: %w", subscriberID, err)
	}
	out, err := collect(rows, func(r scanner) (store.Subscription, error) {
		var f subscriptionScan
		err := r.Scan(f.dest()...)
		return f.subscription(), err
	})
	if err != nil {
		return nil, fmt.Errorf("subscriptions of %d: %w", subscriberID, err)
	}
	return out, nil
}
