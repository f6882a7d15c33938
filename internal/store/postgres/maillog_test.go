package postgres

import (
	"testing"

	"posthorn/internal/store/storetest"
)

func TestMailEventConformance(t *testing.T) {
	storetest.RunMailEvents(t, func(t *testing.T) storetest.MailEventBackend {
		return openStore(t)
	})
}
