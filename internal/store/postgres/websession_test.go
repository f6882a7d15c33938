package postgres

import (
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

type webBackend struct {
	store.Store
	store.WebStore
}

func TestWebSessionConformance(t *testing.T) {
	storetest.RunWebSessions(t, func(t *testing.T) storetest.WebBackend {
		s := openStore(t)
		return webBackend{core(s), s}
	})
}
