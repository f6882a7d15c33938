package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

// TestSharedState runs the shared state's conformance suite on a new database per subtest.
func TestSharedState(t *testing.T) {
	storetest.RunSharedState(t, func(t *testing.T) storetest.SharedStateBackend {
		return openURL(t, server.Database(t))
	})
}
