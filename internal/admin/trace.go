package admin

import (
	"posthorn/internal/mailtrace"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Tracer returns the message trace over the store's mail log (package mailtrace: search by
// sender, recipient, Message-ID and time; every step of one message); a store that keeps no
// mail log is unsupported.
func (a *Admin) Tracer() (*mailtrace.Tracer, error) {
	es, ok := a.Store.(store.MailEventStore)
	if !ok {
		return nil, &operr.Error{Code: operr.Unsupported, Message: "this store keeps no mail log"}
	}
	return &mailtrace.Tracer{Store: es}, nil
}
