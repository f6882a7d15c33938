package postgres

import (
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

type mailEventBackend struct {
	store.Store
	store.MailEventStore
}

func TestMailEventConformance(t *testing.T) {
	storetest.RunMailEvents(t, func(t *testing.T) storetest.MailEventBackend {
		s := openStore(t)
		return mailEventBackend{core(s), s}
	})
}
