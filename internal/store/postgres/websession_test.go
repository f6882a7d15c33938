package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestWebSessionConformance(t *testing.T) {
	storetest.RunWebSessions(t, func(t *testing.T) storetest.WebBackend {
		return openStore(t)
	})
}
