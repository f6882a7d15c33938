package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"posthorn/internal/store"
)

// hierarchySeparator separates the levels of a mailbox name ("Archive/2026").
const hierarchySeparator = store.HierarchySeparator

// validMailboxName is store.ValidMailboxName (a NUL is also how RenameMailbox marks names in
// passing).
func validMailboxName(name string) error { return store.ValidMailboxName(name) }

func validSpecialUse(use string) error { return store.ValidSpecialUse(use) }

// CreateMailbox creates a mailbox with a new UIDVALIDITY and publishes store.ChangeMailbox.
func (s *Store) CreateMailbox(ctx context.Context, accountID int64, name, specialUse string) (store.Mailbox, error) {
	name = mailboxName(name)
	if err := errors.Join(validMailboxName(name), validSpecialUse(specialUse)); err != nil {
		return store.Mailbox{}, fmt.Errorf("create mailbox of account %d: %w", accountID, err)
	}
	var m store.Mailbox
	err := s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, accountID); err != nil {
			return err
		}
		id, err := s.createMailbox(ctx, tx, accountID, store.MailboxSpec{Name: name, SpecialUse: specialUse})
		if err != nil {
			return err
		}
		if m, err = scanMailbox(tx.QueryRowContext(ctx, mailboxColumns+` WHERE id = ?`, id)); err != nil {
			return err
		}
		publish(mailboxChange(m))
		return nil
	})
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("create mailbox %q of account %d: %w", name, accountID, err)
	}
	return m, nil
}

// mailboxChange is the change feed event for a mailbox created, renamed or deleted.
func mailboxChange(m store.Mailbox) store.Change {
	return store.Change{AccountID: m.AccountID, MailboxID: m.ID, Kind: store.ChangeMailbox, ModSeq: m.HighestModSeq}
}

// DeleteMailbox deletes a mailbox with its messages and its record of expunged UIDs, and
// publishes store.ChangeMailbox. Mailboxes below it stay, its name remaining a level of the
// hierarchy (RFC 9051 §6.3.5), and so do subscriptions to its name (§6.3.7: a server SHOULD NOT
// remove them). It returns, sorted, the blobs left without reference.
func (s *Store) DeleteMailbox(ctx context.Context, accountID int64, name string) ([]string, error) {
	name = mailboxName(name)
	if name == "INBOX" {
		return nil, fmt.Errorf("delete mailbox INBOX of account %d: %w", accountID, store.ErrInUse)
	}
	var unreferenced []string
	err := s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		m, err := mailboxByName(ctx, tx, accountID, name)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT blob_id, count(*) FROM messages WHERE mailbox_id = ?
			GROUP BY blob_id`, m.ID)
		if err != nil {
			return err
		}
		refs, err := collect(rows, scanBlobRef)
		if err != nil {
			return err
		}
		// Deleting the mailbox cascades to its messages and expunged rows.
		if _, err := tx.ExecContext(ctx, `DELETE FROM mailboxes WHERE id = ?`, m.ID); err != nil {
			return err
		}
		if unreferenced, err = dropBlobRefs(ctx, tx, refs); err != nil {
			return err
		}
		publish(mailboxChange(m))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete mailbox %q of account %d: %w", name, accountID, err)
	}
	return unreferenced, nil
}

// mailboxByName reads a mailbox in a transaction; store.ErrNotFound if absent.
func mailboxByName(ctx context.Context, tx *sql.Tx, accountID int64, name string) (store.Mailbox, error) {
	m, err := scanMailbox(tx.QueryRowContext(ctx, mailboxColumns+` WHERE account_id = ? AND name = ?`,
		accountID, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	return m, err
}

// RenameMailbox renames a mailbox and the mailboxes below it, which keep their ids,
// UIDVALIDITY and messages, and publishes store.ChangeMailbox for each. Renaming INBOX is
// different (RFC 9051 §6.3.6): its messages move, with new UIDs in UID order, to a new mailbox
// of the new name, and INBOX stays, empty, with its UIDVALIDITY; the mailboxes below INBOX stay
// where they are. Subscriptions are left as they are.
func (s *Store) RenameMailbox(ctx context.Context, accountID int64, oldName, newName string) error {
	oldName, newName = mailboxName(oldName), mailboxName(newName)
	if err := validMailboxName(newName); err != nil {
		return fmt.Errorf("rename mailbox %q of account %d: %w", oldName, accountID, err)
	}
	err := s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		old, err := mailboxByName(ctx, tx, accountID, oldName)
		if err != nil {
			return err
		}
		if _, err := mailboxByName(ctx, tx, accountID, newName); err == nil {
			return fmt.Errorf("%q: %w", newName, store.ErrExists)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if oldName == "INBOX" {
			return s.renameInbox(ctx, tx, old, newName, publish)
		}
		return renameTree(ctx, tx, accountID, oldName, newName, publish)
	})
	if err != nil {
		return fmt.Errorf("rename mailbox %q of account %d to %q: %w", oldName, accountID, newName, err)
	}
	return nil
}

// renameInbox moves every message of INBOX into a new mailbox named newName.
func (s *Store) renameInbox(ctx context.Context, tx *sql.Tx, inbox store.Mailbox, newName string,
	publish func(store.Change)) error {
	id, err := s.createMailbox(ctx, tx, inbox.AccountID, store.MailboxSpec{Name: newName})
	if err != nil {
		return err
	}
	if _, err := s.transfer(ctx, tx, inbox.ID, nil, id, true, publish); err != nil {
		return err
	}
	created, err := scanMailbox(tx.QueryRowContext(ctx, mailboxColumns+` WHERE id = ?`, id))
	if err != nil {
		return err
	}
	publish(mailboxChange(created))
	return nil
}

// renameTree renames oldName to newName and every "oldName/..." to "newName/...".
func renameTree(ctx context.Context, tx *sql.Tx, accountID int64, oldName, newName string,
	publish func(store.Change)) error {
	rows, err := tx.QueryContext(ctx, mailboxColumns+` WHERE account_id = ? ORDER BY id`, accountID)
	if err != nil {
		return err
	}
	all, err := collect(rows, scanMailbox)
	if err != nil {
		return err
	}
	renamed := map[int64]string{} // id: new name
	for _, m := range all {
		if m.Name == oldName || strings.HasPrefix(m.Name, oldName+hierarchySeparator) {
			renamed[m.ID] = newName + strings.TrimPrefix(m.Name, oldName)
		}
	}
	for _, m := range all {
		if _, ok := renamed[m.ID]; ok {
			continue
		}
		for _, name := range renamed {
			if m.Name == name {
				return fmt.Errorf("%q: %w", name, store.ErrExists)
			}
		}
	}
	// Names must be unique after every row update, not only at the end: renaming "a" to "a/b"
	// makes "a/c" into "a/b/c", which may still be the name of a mailbox "a/b/c" about to
	// become "a/b/b/c". So every row first takes a name no mailbox can have.
	for id := range renamed {
		if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = ? WHERE id = ?`,
			fmt.Sprintf("\x00%d", id), id); err != nil {
			return err
		}
	}
	for _, m := range all {
		name, ok := renamed[m.ID]
		if !ok {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE mailboxes SET name = ? WHERE id = ?`, name, m.ID); err != nil {
			return err
		}
		m.Name = name
		publish(mailboxChange(m))
	}
	return nil
}

// SetSubscribed adds a name to the account's subscriptions or removes it; doing either twice
// is not an error. The name need not be a mailbox (RFC 9051 §6.3.7).
func (s *Store) SetSubscribed(ctx context.Context, accountID int64, name string, subscribed bool) error {
	name = mailboxName(name)
	if err := validMailboxName(name); err != nil {
		return fmt.Errorf("subscribe account %d: %w", accountID, err)
	}
	query := `INSERT INTO subscriptions (account_id, name) VALUES (?1, ?2) ON CONFLICT DO NOTHING`
	if !subscribed {
		query = `DELETE FROM subscriptions WHERE account_id = ?1 AND name = ?2`
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, query, accountID, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("set subscription %q of account %d to %t: %w", name, accountID, subscribed, err)
	}
	return nil
}

// ListSubscriptions returns the account's subscribed names, sorted bytewise.
func (s *Store) ListSubscriptions(ctx context.Context, accountID int64) ([]string, error) {
	var out []string
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, accountID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT name FROM subscriptions WHERE account_id = ? ORDER BY name`,
			accountID)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanString)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions of account %d: %w", accountID, err)
	}
	return out, nil
}

// GetMailboxByID returns a mailbox by id; store.ErrNotFound if it is gone.
func (s *Store) GetMailboxByID(ctx context.Context, mailboxID int64) (store.Mailbox, error) {
	m, err := scanMailbox(s.read.QueryRowContext(ctx, mailboxColumns+` WHERE id = ?`, mailboxID))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("get mailbox %d: %w", mailboxID, err)
	}
	return m, nil
}
