package postgres

import (
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

type apiTokenBackend struct {
	store.Store
	store.APITokenStore
}

func TestAPITokenConformance(t *testing.T) {
	storetest.RunAPITokens(t, func(t *testing.T) storetest.APITokenBackend {
		s := openStore(t)
		return apiTokenBackend{core(s), s}
	})
}
