package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestStatsConformance(t *testing.T) {
	storetest.RunStats(t, func(t *testing.T) storetest.StatsBackend {
		s, _ := openTemp(t)
		return s
	})
}
