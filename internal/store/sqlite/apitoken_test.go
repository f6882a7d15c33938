package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestAPITokenConformance(t *testing.T) {
	storetest.RunAPITokens(t, func(t *testing.T) storetest.APITokenBackend {
		s, _ := openTemp(t)
		return s
	})
}
