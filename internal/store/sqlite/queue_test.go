package sqlite

import (
	"strings"
	"testing"

	"posthorn/internal/store/storetest"
)

func TestQueueConformance(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) storetest.QueueBackend {
		s, _ := openTemp(t)
		return s
	})
}

// TestNewQueueRowsPlan: reading the rows after an id seeks the rowid; it does not walk index
// queue_due over every row not held and sort them.
func TestNewQueueRowsPlan(t *testing.T) {
	s, _ := openTemp(t)
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+newQueueRowsQuery, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan, "; "); !strings.Contains(got, "INTEGER PRIMARY KEY") || strings.Contains(got, "TEMP B-TREE") {
		t.Errorf("query plan of NewQueueRows: %s", got)
	}
}
