package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"posthorn/internal/store"
)

// mailboxes maps source folders to the account's mailboxes, creating them as needed. It is
// used by the walking goroutine only.
type mailboxes struct {
	st        Store
	accountID int64
	parent    string // Import's mailbox argument, "" for none
	byName    map[string]store.Mailbox
	byUse     map[string]store.Mailbox
	resolved  map[Folder]store.Mailbox
}

func newMailboxes(ctx context.Context, st Store, accountID int64, parent string) (*mailboxes, error) {
	m := &mailboxes{st: st, accountID: accountID, parent: strings.Trim(parent, "/"),
		byName: map[string]store.Mailbox{}, byUse: map[string]store.Mailbox{}, resolved: map[Folder]store.Mailbox{}}
	list, err := st.ListMailboxes(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	for _, mb := range list {
		m.add(mb)
	}
	return m, nil
}

func (m *mailboxes) add(mb store.Mailbox) {
	m.byName[nameKey(mb.Name)] = mb
	if mb.SpecialUse != "" {
		if _, ok := m.byUse[mb.SpecialUse]; !ok {
			m.byUse[mb.SpecialUse] = mb
		}
	}
}

// nameKey compares INBOX case-insensitively, as IMAP does (RFC 9051 §5.1), other names exactly.
func nameKey(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// resolve returns the mailbox a folder's messages go to.
func (m *mailboxes) resolve(ctx context.Context, f Folder) (store.Mailbox, error) {
	if mb, ok := m.resolved[f]; ok {
		return mb, nil
	}
	name, use := m.target(f)
	if use != "" {
		if mb, ok := m.byUse[use]; ok {
			m.resolved[f] = mb
			return mb, nil
		}
	}
	mb, ok := m.byName[nameKey(name)]
	if !ok {
		if _, taken := m.byUse[use]; taken {
			use = "" // only one mailbox of each use
		}
		var err error
		mb, err = m.st.CreateMailbox(ctx, m.accountID, name, use)
		if errors.Is(err, store.ErrExists) { // created meanwhile by someone else
			err = m.reload(ctx)
			mb, ok = m.byName[nameKey(name)]
			if err == nil && !ok {
				err = fmt.Errorf("mailbox %q exists and cannot be found", name)
			}
		}
		if err != nil {
			return store.Mailbox{}, fmt.Errorf("create mailbox %q: %w", name, err)
		}
		m.add(mb)
	}
	m.resolved[f] = mb
	return mb, nil
}

// target is the local name and special use of a folder's mailbox.
func (m *mailboxes) target(f Folder) (name, use string) {
	name = strings.Trim(f.Name, "/")
	if name == "" || strings.EqualFold(name, "INBOX") {
		name = "INBOX"
	}
	if m.parent == "" {
		return name, f.SpecialUse
	}
	if name == "INBOX" {
		return m.parent, ""
	}
	return m.parent + "/" + name, ""
}

func (m *mailboxes) reload(ctx context.Context) error {
	list, err := m.st.ListMailboxes(ctx, m.accountID)
	if err != nil {
		return err
	}
	for _, mb := range list {
		m.add(mb)
	}
	return nil
}
