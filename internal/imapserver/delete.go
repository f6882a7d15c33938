package imapserver

import (
	"errors"

	"posthorn/internal/store"
)

type mailboxArgs struct{ mailbox string }

// parseMailboxArg: DELETE, SUBSCRIBE and UNSUBSCRIBE (subscribe.go) SP mailbox (RFC 9051
// §6.3.5, §6.3.7, §6.3.8).
func parseMailboxArg(p *parser, c *command) error {
	a := &mailboxArgs{}
	c.args = a
	return p.spAstring(&a.mailbox)
}

// cmdDelete: DELETE (RFC 9051 §6.3.5). INBOX cannot be deleted; mailboxes below the deleted
// one stay.
func (s *session) cmdDelete(c *command) error {
	name, err := s.mailboxName(c.args.(*mailboxArgs).mailbox)
	if err != nil {
		return err
	}
	if name == "INBOX" {
		return no("CANNOT", "INBOX cannot be deleted")
	}
	unreferenced, err := s.server.Store.DeleteMailbox(s.ctx, s.account.ID, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return no("NONEXISTENT", "no such mailbox")
	case errors.Is(err, store.ErrInUse):
		return no("CANNOT", "mailbox cannot be deleted")
	case err != nil:
		return err
	}
	s.removeBlobs(unreferenced)
	if s.sel != nil && s.sel.name == name {
		s.sel.gone = true
	}
	return nil
}
