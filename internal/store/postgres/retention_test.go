package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestRetentionConformance(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) storetest.RetentionBackend {
		return openStore(t)
	})
}
