package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestRetentionConformance(t *testing.T) {
	storetest.RunRetention(t, func(t *testing.T) storetest.RetentionBackend {
		s, _ := openTemp(t)
		return s
	})
}
