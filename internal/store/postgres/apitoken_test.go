package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestAPITokenConformance(t *testing.T) {
	storetest.RunAPITokens(t, func(t *testing.T) storetest.APITokenBackend {
		return openStore(t)
	})
}
