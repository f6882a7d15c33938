package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestSharedState(t *testing.T) {
	storetest.RunSharedState(t, func(t *testing.T) storetest.SharedStateBackend {
		s, _ := openTemp(t)
		return s
	})
}
