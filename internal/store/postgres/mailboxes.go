package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// CreateMailbox creates a mailbox with a new UIDVALIDITY and publishes store.ChangeMailbox.
func (s *Store) CreateMailbox(ctx context.Context, accountID int64, name, specialUse string) (store.Mailbox, error) {
	name = store.MailboxName(name)
	if err := errors.Join(store.ValidMailboxName(name), store.ValidSpecialUse(specialUse)); err != nil {
		return store.Mailbox{}, fmt.Errorf("create mailbox of account %d: %w", accountID, err)
	}
	var m store.Mailbox
	err := s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1 FOR SHARE)`, accountID); err != nil {
			return err
		}
		id, err := s.createMailbox(ctx, tx, accountID, store.MailboxSpec{Name: name, SpecialUse: specialUse})
		if err != nil {
			return err
		}
		if m, err = scanMailbox(tx.QueryRow(ctx, mailboxColumns+` WHERE id = $1`, id)); err != nil {
			return err
		}
		changes.add(mailboxChange(m))
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
// publishes store.ChangeMailbox. Mailboxes below it stay, and so do subscriptions to its name
// (RFC 9051 §6.3.5, §6.3.7). It returns, sorted, the blobs left without reference.
func (s *Store) DeleteMailbox(ctx context.Context, accountID int64, name string) ([]string, error) {
	name = store.MailboxName(name)
	if name == "INBOX" {
		return nil, fmt.Errorf("delete mailbox INBOX of account %d: %w", accountID, store.ErrInUse)
	}
	var unreferenced []string
	err := s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		m, err := mailboxByName(ctx, tx, accountID, name, true)
		if err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT blob_id, count(*) FROM messages WHERE mailbox_id = $1 GROUP BY blob_id`, m.ID)
		refs, err := pgx.CollectRows(rows, scanBlobRef)
		if err != nil {
			return err
		}
		// Deleting the mailbox cascades to its messages and expunged rows.
		unreferenced, err = dropBlobRefs(ctx, tx, refs, func() error {
			_, err := tx.Exec(ctx, `DELETE FROM mailboxes WHERE id = $1`, m.ID)
			return err
		})
		if err != nil {
			return err
		}
		changes.add(mailboxChange(m))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("delete mailbox %q of account %d: %w", name, accountID, err)
	}
	return unreferenced, nil
}

// mailboxByName reads a mailbox in a transaction, locked FOR UPDATE when lock is set;
// store.ErrNotFound if absent.
func mailboxByName(ctx context.Context, tx pgx.Tx, accountID int64, name string, lock bool) (store.Mailbox, error) {
	query := mailboxColumns + ` WHERE account_id = $1 AND name = $2`
	if lock {
		query += ` FOR UPDATE`
	}
	m, err := scanMailbox(tx.QueryRow(ctx, query, accountID, name))
	return m, notFound(err)
}

// RenameMailbox renames a mailbox and the mailboxes below it, which keep their ids,
// UIDVALIDITY and messages, and publishes store.ChangeMailbox for each. Renaming INBOX moves
// its messages, with new UIDs in UID order, to a new mailbox of the new name, and INBOX stays,
// empty (RFC 9051 §6.3.6). Subscriptions are left as they are. Every mailbox of the account is
// locked first, in id order.
func (s *Store) RenameMailbox(ctx context.Context, accountID int64, oldName, newName string) error {
	oldName, newName = store.MailboxName(oldName), store.MailboxName(newName)
	if err := store.ValidMailboxName(newName); err != nil {
		return fmt.Errorf("rename mailbox %q of account %d: %w", oldName, accountID, err)
	}
	err := s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		rows, _ := tx.Query(ctx, mailboxColumns+` WHERE account_id = $1 ORDER BY id FOR UPDATE`, accountID)
		all, err := pgx.CollectRows(rows, collectMailbox)
		if err != nil {
			return err
		}
		var old *store.Mailbox
		for i, m := range all {
			switch m.Name {
			case oldName:
				old = &all[i]
			case newName:
				return fmt.Errorf("%q: %w", newName, store.ErrExists)
			}
		}
		if old == nil {
			return store.ErrNotFound
		}
		if oldName == "INBOX" {
			return s.renameInbox(ctx, tx, *old, newName, changes)
		}
		return renameTree(ctx, tx, all, oldName, newName, changes)
	})
	if err != nil {
		return fmt.Errorf("rename mailbox %q of account %d to %q: %w", oldName, accountID, newName, err)
	}
	return nil
}

// renameInbox moves every message of INBOX into a new mailbox named newName.
func (s *Store) renameInbox(ctx context.Context, tx pgx.Tx, inbox store.Mailbox, newName string,
	changes *changeLog) error {
	id, err := s.createMailbox(ctx, tx, inbox.AccountID, store.MailboxSpec{Name: newName})
	if err != nil {
		return err
	}
	if _, err := s.transfer(ctx, tx, inbox.ID, nil, id, true, changes); err != nil {
		return err
	}
	created, err := scanMailbox(tx.QueryRow(ctx, mailboxColumns+` WHERE id = $1`, id))
	if err != nil {
		return err
	}
	changes.add(mailboxChange(created))
	return nil
}

// renameTree renames oldName to newName and every "oldName/..." to "newName/...", of all the
// account's mailboxes.
func renameTree(ctx context.Context, tx pgx.Tx, all []store.Mailbox, oldName, newName string,
	changes *changeLog) error {
	renamed := map[int64]string{} // id: new name
	for _, m := range all {
		if m.Name == oldName || strings.HasPrefix(m.Name, oldName+store.HierarchySeparator) {
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
	// One statement renames them all: PostgreSQL checks the unique (account_id, name) at the
	// end of the statement only when the constraint is deferrable, which it is not, so every
	// row first takes a name no mailbox can have (see store/sqlite's renameTree).
	var ids []int64
	var names []string
	for id, name := range renamed {
		ids, names = append(ids, id), append(names, name)
	}
	var b pgx.Batch
	queueExec(&b, "rename in passing", `UPDATE mailboxes SET name = chr(1) || id::text WHERE id = ANY($1)`, ids)
	queueExec(&b, "rename", `UPDATE mailboxes m SET name = r.name FROM unnest($1::bigint[], $2::text[]) AS r (id, name)
		WHERE m.id = r.id`, ids, names)
	if err := sendBatch(ctx, tx, &b); err != nil {
		return err
	}
	for _, m := range all {
		if name, ok := renamed[m.ID]; ok {
			m.Name = name
			changes.add(mailboxChange(m))
		}
	}
	return nil
}

// SetSubscribed adds a name to the account's subscriptions or removes it; doing either twice
// is not an error. The name need not be a mailbox (RFC 9051 §6.3.7).
func (s *Store) SetSubscribed(ctx context.Context, accountID int64, name string, subscribed bool) error {
	name = store.MailboxName(name)
	if err := store.ValidMailboxName(name); err != nil {
		return fmt.Errorf("subscribe account %d: %w", accountID, err)
	}
	query := `INSERT INTO subscriptions (account_id, name) SELECT id, $2 FROM accounts WHERE id = $1
		ON CONFLICT DO NOTHING`
	if !subscribed {
		query = `DELETE FROM subscriptions WHERE account_id = $1 AND name = $2`
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`, accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, query, accountID, name)
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
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`, accountID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT name FROM subscriptions WHERE account_id = $1 ORDER BY name`, accountID)
		var err error
		out, err = pgx.CollectRows(rows, scanString)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list subscriptions of account %d: %w", accountID, err)
	}
	return out, nil
}

// GetMailboxByID returns a mailbox by id; store.ErrNotFound if it is gone.
func (s *Store) GetMailboxByID(ctx context.Context, mailboxID int64) (store.Mailbox, error) {
	m, err := scanMailbox(s.pool.QueryRow(ctx, mailboxColumns+` WHERE id = $1`, mailboxID))
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("get mailbox %d: %w", mailboxID, notFound(err))
	}
	return m, nil
}
