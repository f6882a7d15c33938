package imapserver

import (
	"errors"
	"strings"

	"posthorn/internal/store"
)

type createArgs struct {
	mailbox string
	use     []string // RFC 6154 §3 CREATE ... (USE (\Sent))
}

// parseCreate: CREATE SP mailbox [SP "(" create-param *(SP create-param) ")"], with the USE
// parameter of RFC 6154 §6: USE SP "(" [use-attr *(SP use-attr)] ")".
func parseCreate(p *parser, c *command) error {
	a := &createArgs{}
	c.args = a
	return p.mailboxParams(&a.mailbox, func(name string) error {
		if name != "USE" {
			return badf("unknown CREATE parameter %s", name)
		}
		if err := p.sp(); err != nil {
			return err
		}
		var err error
		a.use, err = p.flagList()
		return err
	})
}

// specialUses are the special-use attributes CREATE may give a mailbox (RFC 6154 §2).
var specialUses = []string{store.UseSent, store.UseDrafts, store.UseTrash, store.UseJunk, store.UseArchive}

// cmdCreate: CREATE (RFC 9051 §6.3.4), with USE (CREATE-SPECIAL-USE, RFC 6154 §3). A trailing
// delimiter is dropped ("foo/" creates "foo"); missing superior names are created too, as
// §6.3.4 asks.
func (s *session) cmdCreate(c *command) error {
	a := c.args.(*createArgs)
	name, err := s.mailboxName(a.mailbox)
	if err != nil {
		return err
	}
	name = strings.TrimRight(name, string(hierarchyDelimiter))
	if err := validNewName(name); err != nil {
		return err
	}
	use := ""
	for _, u := range a.use {
		canonical := ""
		for _, known := range specialUses {
			if strings.EqualFold(u, known) {
				canonical = known
			}
		}
		if canonical == "" || (use != "" && use != canonical) {
			return no("USEATTR", "unsupported special use") // RFC 6154 §3
		}
		use = canonical
	}
	if err := s.createSuperiors(name); err != nil {
		return err
	}
	_, err = s.server.Store.CreateMailbox(s.ctx, s.account.ID, name, use)
	if errors.Is(err, store.ErrExists) {
		return no("ALREADYEXISTS", "mailbox already exists") // RFC 5530
	}
	return err
}

// validNewName refuses names no mailbox may have: empty, INBOX, or with an empty level.
func validNewName(name string) error {
	switch {
	case name == "":
		return no("CANNOT", "empty mailbox name")
	case name == "INBOX":
		return no("ALREADYEXISTS", "INBOX always exists")
	case strings.HasPrefix(name, string(hierarchyDelimiter)) ||
		strings.Contains(name, string(hierarchyDelimiter)+string(hierarchyDelimiter)):
		return no("CANNOT", "empty level in mailbox name")
	case strings.ContainsAny(name, "*%"):
		return no("CANNOT", "mailbox name holds a wildcard")
	}
	return nil
}

// createSuperiors creates the missing superior levels of name ("a" and "a/b" for "a/b/c").
func (s *session) createSuperiors(name string) error {
	for i := 0; i < len(name); i++ {
		if name[i] != hierarchyDelimiter {
			continue
		}
		_, err := s.server.Store.CreateMailbox(s.ctx, s.account.ID, name[:i], "")
		if err != nil && !errors.Is(err, store.ErrExists) {
			return err
		}
	}
	return nil
}
