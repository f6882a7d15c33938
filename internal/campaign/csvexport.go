package campaign

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"posthorn/internal/store"
)

// exportPage is the number of subscribers an export reads at a time.
const exportPage = 1000

// ExportCSV writes a list's subscribers that have not unsubscribed as CSV, in the form
// ImportCSV reads: a header (email, name, then every attribute key of the list, sorted) and
// one row per subscriber in id order; string attributes as they are, others as JSON. It reads
// the list twice, page by page (once for the attribute keys), and never holds more than a
// page. It returns the number of rows written.
func (s *Service) ExportCSV(ctx context.Context, list string, w io.Writer) (int, error) {
	l, err := s.list(ctx, list)
	if err != nil {
		return 0, err
	}
	keySet := map[string]bool{}
	if err := s.eachSubscriber(ctx, l.ID, func(e store.SubscriberEntry) error {
		for k := range e.Attributes {
			keySet[k] = true
		}
		return nil
	}); err != nil {
		return 0, err
	}
	keys := make([]string, 0, len(keySet))
	for k := range keySet {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"email", "name"}, keys...)); err != nil {
		return 0, fmt.Errorf("export %s: %w", l.Name, err)
	}
	n := 0
	row := make([]string, 2+len(keys))
	err = s.eachSubscriber(ctx, l.ID, func(e store.SubscriberEntry) error {
		row[0], row[1] = e.Address, e.Name
		for i, k := range keys {
			row[2+i] = attributeText(e.Attributes[k])
		}
		n++
		return cw.Write(row)
	})
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err != nil {
		return n, fmt.Errorf("export %s: %w", l.Name, err)
	}
	return n, nil
}

// eachSubscriber calls fn for every subscription of the list that is not unsubscribed.
func (s *Service) eachSubscriber(ctx context.Context, listID int64, fn func(store.SubscriberEntry) error) error {
	var after int64
	for {
		page, err := s.Store.ListSubscribers(ctx, store.SubscriberQuery{ListID: listID, AfterID: after, Limit: exportPage})
		if err != nil {
			return err
		}
		for _, e := range page {
			if e.Subscription.Status == store.StatusUnsubscribed {
				continue
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < exportPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// attributeText is an attribute value as an export writes it.
func attributeText(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
