package imapserver

import (
	"errors"
	"strings"

	"posthorn/internal/store"
)

type renameArgs struct{ from, to string }

// parseRename: RENAME SP mailbox SP mailbox (RFC 9051 §6.3.6).
func parseRename(p *parser, c *command) error {
	a := &renameArgs{}
	c.args = a
	if err := p.spAstring(&a.from); err != nil {
		return err
	}
	return p.spAstring(&a.to)
}

// cmdRename: RENAME (RFC 9051 §6.3.6). Mailboxes below the old name move along; renaming
// INBOX moves its messages into a new mailbox and leaves INBOX empty (the store does both).
func (s *session) cmdRename(c *command) error {
	a := c.args.(*renameArgs)
	from, err := s.mailboxName(a.from)
	if err != nil {
		return err
	}
	to, err := s.mailboxName(a.to)
	if err != nil {
		return err
	}
	to = strings.TrimRight(to, string(hierarchyDelimiter))
	if err := validNewName(to); err != nil {
		return err
	}
	if _, err := s.server.Store.GetMailbox(s.ctx, s.account.ID, from); errors.Is(err, store.ErrNotFound) {
		return no("NONEXISTENT", "no such mailbox")
	} else if err != nil {
		return err
	}
	if strings.HasPrefix(to, from+string(hierarchyDelimiter)) {
		return no("CANNOT", "cannot move a mailbox below itself")
	}
	if err := s.createSuperiors(to); err != nil {
		return err
	}
	err = s.server.Store.RenameMailbox(s.ctx, s.account.ID, from, to)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return no("NONEXISTENT", "no such mailbox")
	case errors.Is(err, store.ErrExists):
		return no("ALREADYEXISTS", "target mailbox already exists")
	case err != nil:
		return err
	}
	if s.sel != nil && s.sel.name == from && from != "INBOX" {
		s.sel.name = to
	}
	return nil
}
