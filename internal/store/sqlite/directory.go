package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"posthorn/internal/store"
)

// AddDomain adds a local domain; store.ErrExists if present.
func (s *Store) AddDomain(ctx context.Context, name string) (store.Domain, error) {
	d := store.Domain{Name: strings.ToLower(name)}
	if d.Name == "" {
		return store.Domain{}, errors.New("add domain: empty name")
	}
	created := s.nowNanos()
	err := s.write.QueryRowContext(ctx, `INSERT INTO domains (name, created_at) VALUES (?, ?)
		ON CONFLICT (name) DO NOTHING RETURNING id`, d.Name, created).Scan(&d.ID)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrExists
	}
	if err != nil {
		return store.Domain{}, fmt.Errorf("add domain %s: %w", d.Name, err)
	}
	d.CreatedAt = fromNanos(created)
	return d, nil
}

// GetDomain returns a domain by name; store.ErrNotFound if absent.
func (s *Store) GetDomain(ctx context.Context, name string) (store.Domain, error) {
	name = strings.ToLower(name)
	d, err := scanDomain(s.reads.getDomain.QueryRowContext(ctx, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Domain{}, fmt.Errorf("get domain %s: %w", name, err)
	}
	return d, nil
}

// ListDomains returns every domain, by name.
func (s *Store) ListDomains(ctx context.Context) ([]store.Domain, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, name, created_at FROM domains ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	out, err := collect(rows, scanDomain)
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// RemoveDomain removes a domain without accounts or aliases; store.ErrInUse otherwise.
func (s *Store) RemoveDomain(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := domainID(ctx, tx, name)
		if err != nil {
			return err
		}
		var accounts, aliases int
		if err := tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM accounts WHERE domain_id = ?1),
			(SELECT count(*) FROM aliases WHERE domain_id = ?1)`, id).Scan(&accounts, &aliases); err != nil {
			return err
		}
		if accounts > 0 || aliases > 0 {
			return fmt.Errorf("%d accounts and %d aliases left: %w", accounts, aliases, store.ErrInUse)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM domains WHERE id = ?`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove domain %s: %w", name, err)
	}
	return nil
}

// AddAccount creates an account and its store.DefaultMailboxes in one transaction.
func (s *Store) AddAccount(ctx context.Context, address, passwordHash string) (store.Account, error) {
	addr, domain, err := splitAddress(address, false)
	if err != nil {
		return store.Account{}, fmt.Errorf("add account: %w", err)
	}
	a := store.Account{Address: addr, PasswordHash: passwordHash, QuotaBytes: store.QuotaDefault}
	created := s.nowNanos()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if a.DomainID, err = localDomainID(ctx, tx, domain); err != nil {
			return err
		}
		if err := checkFree(ctx, tx, addr); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO accounts (address, domain_id, password_hash, created_at)
			VALUES (?, ?, ?, ?) RETURNING id`, addr, a.DomainID, passwordHash, created).Scan(&a.ID); err != nil {
			return err
		}
		return s.createMailboxes(ctx, tx, a.ID, store.DefaultMailboxes)
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("add account %s: %w", addr, err)
	}
	a.CreatedAt = fromNanos(created)
	return a, nil
}

// createMailboxes creates mailboxes for an account, each with a new UIDVALIDITY.
func (s *Store) createMailboxes(ctx context.Context, tx *sql.Tx, accountID int64, specs []store.MailboxSpec) error {
	for _, m := range specs {
		if _, err := s.createMailbox(ctx, tx, accountID, m); err != nil {
			return err
		}
	}
	return nil
}

// createMailbox creates one mailbox with a new UIDVALIDITY and returns its id; store.ErrExists
// if the account has a mailbox of that name.
func (s *Store) createMailbox(ctx context.Context, tx *sql.Tx, accountID int64, m store.MailboxSpec) (int64, error) {
	validity, err := s.allocUIDValidity(ctx, tx)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO mailboxes (account_id, name, special_use, uidvalidity)
		VALUES (?, ?, ?, ?) ON CONFLICT (account_id, name) DO NOTHING RETURNING id`,
		accountID, mailboxName(m.Name), m.SpecialUse, validity).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("create mailbox %s: %w", m.Name, err)
	}
	return id, nil
}

// allocUIDValidity reserves a UIDVALIDITY value: the current unix time in seconds, or one more
// than the last value handed out when that is larger. Values are distinct per mailbox creation,
// strictly increasing over the life of the database, and still increasing after a restore from
// an older copy as long as the clock has moved on.
func (s *Store) allocUIDValidity(ctx context.Context, tx *sql.Tx) (int64, error) {
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'uidvalidity'`).Scan(&last); err != nil {
		return 0, fmt.Errorf("read uidvalidity counter: %w", err)
	}
	next := max(s.now().Unix(), last+1)
	if next > math.MaxUint32 {
		return 0, fmt.Errorf("uidvalidity counter exhausted (%d)", last)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE counters SET value = ? WHERE name = 'uidvalidity'`, next); err != nil {
		return 0, fmt.Errorf("update uidvalidity counter: %w", err)
	}
	return next, nil
}

// GetAccount returns an account by address; store.ErrNotFound if absent.
func (s *Store) GetAccount(ctx context.Context, address string) (store.Account, error) {
	address = strings.ToLower(address)
	a, err := scanAccount(s.reads.getAccount.QueryRowContext(ctx, address))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %s: %w", address, err)
	}
	return a, nil
}

// GetAccountByID returns an account by id; store.ErrNotFound if absent.
func (s *Store) GetAccountByID(ctx context.Context, id int64) (store.Account, error) {
	a, err := scanAccount(s.read.QueryRowContext(ctx, accountColumns+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %d: %w", id, err)
	}
	return a, nil
}

// ListAccounts lists the accounts of one domain by address, or of all domains when domain is
// "". An unknown domain is store.ErrNotFound.
func (s *Store) ListAccounts(ctx context.Context, domain string) ([]store.Account, error) {
	domain = strings.ToLower(domain)
	var out []store.Account
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		query, args := accountColumns+` ORDER BY address`, []any{}
		if domain != "" {
			id, err := domainID(ctx, tx, domain)
			if err != nil {
				return err
			}
			query, args = accountColumns+` WHERE domain_id = ? ORDER BY address`, []any{id}
		}
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanAccount)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list accounts %s: %w", domain, err)
	}
	return out, nil
}

// SetPassword replaces an account's password hash; store.ErrNotFound if there is no account.
func (s *Store) SetPassword(ctx context.Context, address, passwordHash string) error {
	address = strings.ToLower(address)
	res, err := s.write.ExecContext(ctx, `UPDATE accounts SET password_hash = ? WHERE address = ?`, passwordHash, address)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("set password %s: %w", address, err)
	}
	return nil
}

// SetQuota sets an account's storage quota in octets (stored NULL for store.QuotaDefault);
// store.ErrNotFound if there is no account.
func (s *Store) SetQuota(ctx context.Context, address string, quotaBytes int64) error {
	address = strings.ToLower(address)
	if quotaBytes < store.QuotaDefault {
		return fmt.Errorf("set quota of %s: %d octets", address, quotaBytes)
	}
	quota := sql.NullInt64{Int64: quotaBytes, Valid: quotaBytes != store.QuotaDefault}
	res, err := s.write.ExecContext(ctx, `UPDATE accounts SET quota_bytes = ? WHERE address = ?`, quota, address)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("set quota of %s: %w", address, err)
	}
	return nil
}

// RemoveAccount deletes an account with its mailboxes and messages, drops the blob references
// of those messages, and removes the alias targets naming the account. It returns, sorted, the
// blob ids whose last reference went away; their rows are gone.
func (s *Store) RemoveAccount(ctx context.Context, address string) ([]string, error) {
	address = strings.ToLower(address)
	var unreferenced []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM accounts WHERE address = ?`, address).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		refs, err := accountBlobRefs(ctx, tx, id)
		if err != nil {
			return err
		}
		// Deleting the account cascades to its mailboxes and their messages.
		if _, err := tx.ExecContext(ctx, `DELETE FROM accounts WHERE id = ?`, id); err != nil {
			return err
		}
		if unreferenced, err = dropBlobRefs(ctx, tx, refs); err != nil {
			return err
		}
		return pruneTargets(ctx, tx, address)
	})
	if err != nil {
		return nil, fmt.Errorf("remove account %s: %w", address, err)
	}
	return unreferenced, nil
}

// blobRef is a number of references to one blob.
type blobRef struct {
	id string
	n  int64
}

// accountBlobRefs counts, per blob, the messages of an account.
func accountBlobRefs(ctx context.Context, tx *sql.Tx, accountID int64) ([]blobRef, error) {
	rows, err := tx.QueryContext(ctx, `SELECT m.blob_id, count(*) FROM messages m
		JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = ? GROUP BY m.blob_id`, accountID)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanBlobRef)
}

func scanBlobRef(r scanner) (blobRef, error) {
	var b blobRef
	return b, r.Scan(&b.id, &b.n)
}

// dropBlobRefs takes references away from blobs, deletes the rows left without any, with their
// full-text index rows, and returns their ids, sorted.
func dropBlobRefs(ctx context.Context, tx *sql.Tx, refs []blobRef) ([]string, error) {
	if len(refs) == 0 {
		return nil, nil
	}
	// Prepared once per call: an expunge of thousands of messages runs these per body.
	decrement, err := tx.PrepareContext(ctx, `UPDATE blobs SET refs = refs - ? WHERE id = ? RETURNING refs, text_doc`)
	if err != nil {
		return nil, err
	}
	defer decrement.Close()
	remove, err := tx.PrepareContext(ctx, `DELETE FROM blobs WHERE id = ?`)
	if err != nil {
		return nil, err
	}
	defer remove.Close()
	var gone []string
	var docs []any
	for _, r := range refs {
		var left int64
		var doc sql.NullInt64
		if err := decrement.QueryRowContext(ctx, r.n, r.id).Scan(&left, &doc); err != nil {
			return nil, fmt.Errorf("blob %s: %w", r.id, err)
		}
		if left > 0 {
			continue
		}
		if _, err := remove.ExecContext(ctx, r.id); err != nil {
			return nil, fmt.Errorf("blob %s: %w", r.id, err)
		}
		if doc.Valid {
			docs = append(docs, doc.Int64)
		}
		gone = append(gone, r.id)
	}
	// Index rows go in batches: one FTS5 statement per row costs far more than one per batch.
	for len(docs) > 0 {
		n := min(len(docs), 500)
		query := `DELETE FROM message_text WHERE rowid IN (?` + strings.Repeat(`, ?`, n-1) + `)`
		if _, err := tx.ExecContext(ctx, query, docs[:n]...); err != nil {
			return nil, fmt.Errorf("drop text index rows: %w", err)
		}
		docs = docs[n:]
	}
	sort.Strings(gone)
	return gone, nil
}

// AddAlias creates an alias ("@domain" is the domain's catch-all) whose targets are existing
// local accounts or aliases, kept in the order given without duplicates.
func (s *Store) AddAlias(ctx context.Context, address string, targets []string) (store.Alias, error) {
	addr, domain, err := splitAddress(address, true)
	if err != nil {
		return store.Alias{}, fmt.Errorf("add alias: %w", err)
	}
	a := store.Alias{Address: addr, Targets: dedupeLower(targets)}
	if len(a.Targets) == 0 {
		return store.Alias{}, fmt.Errorf("add alias %s: no target", addr)
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		domainID, err := localDomainID(ctx, tx, domain)
		if err != nil {
			return err
		}
		if err := checkFree(ctx, tx, addr); err != nil {
			return err
		}
		for _, t := range a.Targets {
			if err := checkFree(ctx, tx, t); err == nil {
				return fmt.Errorf("target %s is neither an account nor an alias: %w", t, store.ErrNotFound)
			} else if !errors.Is(err, store.ErrExists) {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO aliases (address, domain_id) VALUES (?, ?) RETURNING id`,
			addr, domainID).Scan(&a.ID); err != nil {
			return err
		}
		for i, t := range a.Targets {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alias_targets (alias_id, position, target) VALUES (?, ?, ?)`,
				a.ID, i, t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Alias{}, fmt.Errorf("add alias %s: %w", addr, err)
	}
	return a, nil
}

// GetAlias returns an alias by address; store.ErrNotFound if absent.
func (s *Store) GetAlias(ctx context.Context, address string) (store.Alias, error) {
	address = strings.ToLower(address)
	aliases, err := s.queryAliases(ctx, `WHERE a.address = ?`, address)
	if err == nil && len(aliases) == 0 {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Alias{}, fmt.Errorf("get alias %s: %w", address, err)
	}
	return aliases[0], nil
}

// ListAliases returns every alias, by address.
func (s *Store) ListAliases(ctx context.Context) ([]store.Alias, error) {
	aliases, err := s.queryAliases(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list aliases: %w", err)
	}
	return aliases, nil
}

// queryAliases returns the aliases matching a WHERE clause on aliases a, with their targets,
// from one query so that aliases and targets come from the same snapshot.
func (s *Store) queryAliases(ctx context.Context, where string, args ...any) ([]store.Alias, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT a.id, a.address, t.target FROM aliases a
		LEFT JOIN alias_targets t ON t.alias_id = a.id `+where+` ORDER BY a.address, t.position`, args...)
	if err != nil {
		return nil, err
	}
	var out []store.Alias
	err = scanRows(rows, func(r scanner) error {
		var (
			id      int64
			address string
			target  sql.NullString
		)
		if err := r.Scan(&id, &address, &target); err != nil {
			return err
		}
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, store.Alias{ID: id, Address: address})
		}
		if target.Valid {
			last := &out[len(out)-1]
			last.Targets = append(last.Targets, target.String)
		}
		return nil
	})
	return out, err
}

// RemoveAlias deletes an alias and the targets naming it in other aliases (an alias left
// without target is deleted too); store.ErrNotFound if absent.
func (s *Store) RemoveAlias(ctx context.Context, address string) error {
	address = strings.ToLower(address)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM aliases WHERE address = ?`, address)
		if err != nil {
			return err
		}
		if err := affectedOne(res); err != nil {
			return err
		}
		return pruneTargets(ctx, tx, address)
	})
	if err != nil {
		return fmt.Errorf("remove alias %s: %w", address, err)
	}
	return nil
}

// pruneTargets removes the alias targets naming a removed address, then the aliases left
// without target, and the targets naming those, until nothing is left to remove.
func pruneTargets(ctx context.Context, tx *sql.Tx, address string) error {
	for queue := []string{address}; len(queue) > 0; {
		addr := queue[0]
		queue = queue[1:]
		rows, err := tx.QueryContext(ctx, `DELETE FROM alias_targets WHERE target = ? RETURNING alias_id`, addr)
		if err != nil {
			return err
		}
		ids, err := collect(rows, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return fmt.Errorf("remove targets %s: %w", addr, err)
		}
		for _, id := range ids {
			var emptied string
			err := tx.QueryRowContext(ctx, `DELETE FROM aliases WHERE id = ?1
				AND NOT EXISTS (SELECT 1 FROM alias_targets WHERE alias_id = ?1) RETURNING address`, id).Scan(&emptied)
			if errors.Is(err, sql.ErrNoRows) {
				continue // the alias keeps other targets
			}
			if err != nil {
				return fmt.Errorf("remove emptied alias %d: %w", id, err)
			}
			queue = append(queue, emptied)
		}
	}
	return nil
}

// domainID returns the id of a domain; store.ErrNotFound if absent.
func domainID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM domains WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("domain %s: %w", name, store.ErrNotFound)
	}
	return id, err
}

// localDomainID is domainID for an address being created: an absent domain is
// store.ErrUnknownDomain.
func localDomainID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	id, err := domainID(ctx, tx, name)
	if errors.Is(err, store.ErrNotFound) {
		return 0, fmt.Errorf("domain %s: %w", name, store.ErrUnknownDomain)
	}
	return id, err
}

// checkFree returns store.ErrExists if an account or an alias has the address.
func checkFree(ctx context.Context, tx *sql.Tx, address string) error {
	var account, alias bool
	if err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM accounts WHERE address = ?1),
		EXISTS (SELECT 1 FROM aliases WHERE address = ?1)`, address).Scan(&account, &alias); err != nil {
		return err
	}
	switch {
	case account:
		return fmt.Errorf("%s is an account: %w", address, store.ErrExists)
	case alias:
		return fmt.Errorf("%s is an alias: %w", address, store.ErrExists)
	}
	return nil
}

// dedupeLower is store.DedupeLower (alias targets).
func dedupeLower(addrs []string) []string { return store.DedupeLower(addrs) }

const accountColumns = `SELECT id, address, domain_id, password_hash, created_at, quota_bytes FROM accounts`

func scanAccount(r scanner) (store.Account, error) {
	var (
		a       store.Account
		created int64
		quota   sql.NullInt64
	)
	err := r.Scan(&a.ID, &a.Address, &a.DomainID, &a.PasswordHash, &created, &quota)
	a.CreatedAt = fromNanos(created)
	a.QuotaBytes = store.QuotaDefault
	if quota.Valid {
		a.QuotaBytes = quota.Int64
	}
	return a, err
}

func scanDomain(r scanner) (store.Domain, error) {
	var (
		d       store.Domain
		created int64
	)
	err := r.Scan(&d.ID, &d.Name, &created)
	d.CreatedAt = fromNanos(created)
	return d, err
}
