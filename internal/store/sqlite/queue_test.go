package sqlite

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestQueueConformance(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) storetest.QueueBackend {
		s, _ := openTemp(t)
		return s
	})
}
