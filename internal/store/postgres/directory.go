package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// AddDomain adds a local domain; store.ErrExists if present.
func (s *Store) AddDomain(ctx context.Context, name string) (store.Domain, error) {
	d := store.Domain{Name: strings.ToLower(name)}
	if d.Name == "" {
		return store.Domain{}, errors.New("add domain: empty name")
	}
	created := s.nowNanos()
	err := s.pool.QueryRow(ctx, `INSERT INTO domains (name, created_at) VALUES ($1, $2)
		ON CONFLICT (name) DO NOTHING RETURNING id`, d.Name, created).Scan(&d.ID)
	if errors.Is(err, pgx.ErrNoRows) {
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
	d, err := scanDomain(s.pool.QueryRow(ctx, `SELECT id, name, created_at FROM domains WHERE name = $1`, name))
	if err != nil {
		return store.Domain{}, fmt.Errorf("get domain %s: %w", name, notFound(err))
	}
	return d, nil
}

// ListDomains returns every domain, by name.
func (s *Store) ListDomains(ctx context.Context) ([]store.Domain, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id, name, created_at FROM domains ORDER BY name`)
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Domain, error) { return scanDomain(r) })
	if err != nil {
		return nil, fmt.Errorf("list domains: %w", err)
	}
	return out, nil
}

// RemoveDomain removes a domain without accounts or aliases; store.ErrInUse otherwise. The
// domain row is locked first, so an account or alias added at the same time waits for the
// removal and then finds no domain.
func (s *Store) RemoveDomain(ctx context.Context, name string) error {
	name = strings.ToLower(name)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		err := tx.QueryRow(ctx, `SELECT id FROM domains WHERE name = $1 FOR UPDATE`, name).Scan(&id)
		if err != nil {
			return fmt.Errorf("domain %s: %w", name, notFound(err))
		}
		var accounts, aliases int
		if err := tx.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM accounts WHERE domain_id = $1),
			(SELECT count(*) FROM aliases WHERE domain_id = $1)`, id).Scan(&accounts, &aliases); err != nil {
			return err
		}
		if accounts > 0 || aliases > 0 {
			return fmt.Errorf("%d accounts and %d aliases left: %w", accounts, aliases, store.ErrInUse)
		}
		_, err = tx.Exec(ctx, `DELETE FROM domains WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("remove domain %s: %w", name, err)
	}
	return nil
}

// AddAccount creates an account and its store.DefaultMailboxes in one transaction.
func (s *Store) AddAccount(ctx context.Context, address, passwordHash string) (store.Account, error) {
	addr, domain, err := store.SplitAddress(address, false)
	if err != nil {
		return store.Account{}, fmt.Errorf("add account: %w", err)
	}
	a := store.Account{Address: addr, PasswordHash: passwordHash, QuotaBytes: store.QuotaDefault}
	created := s.nowNanos()
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if a.DomainID, err = localDomainID(ctx, tx, domain); err != nil {
			return err
		}
		if err := checkFree(ctx, tx, addr); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (address, domain_id, password_hash, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, addr, a.DomainID, passwordHash, created).Scan(&a.ID); err != nil {
			if uniqueViolation(err) {
				return fmt.Errorf("%s is an account: %w", addr, store.ErrExists)
			}
			return err
		}
		for _, m := range store.DefaultMailboxes {
			if _, err := s.createMailbox(ctx, tx, a.ID, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Account{}, fmt.Errorf("add account %s: %w", addr, err)
	}
	a.CreatedAt = fromNanos(created)
	return a, nil
}

// createMailbox creates one mailbox with a new UIDVALIDITY and returns its id; store.ErrExists
// if the account has a mailbox of that name.
func (s *Store) createMailbox(ctx context.Context, tx pgx.Tx, accountID int64, m store.MailboxSpec) (int64, error) {
	validity, err := s.allocUIDValidity(ctx, tx)
	if err != nil {
		return 0, err
	}
	var id int64
	err = tx.QueryRow(ctx, `INSERT INTO mailboxes (account_id, name, special_use, uidvalidity)
		VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, name) DO NOTHING RETURNING id`,
		accountID, store.MailboxName(m.Name), m.SpecialUse, validity).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrExists
	}
	if err != nil {
		return 0, fmt.Errorf("create mailbox %s: %w", m.Name, err)
	}
	return id, nil
}

// allocUIDValidity reserves a UIDVALIDITY value: the current unix time in seconds, or one more
// than the last value handed out when that is larger (see store/sqlite). The counter row is
// updated in place, so concurrent creations on any node take turns on its lock and never get
// the same value.
func (s *Store) allocUIDValidity(ctx context.Context, tx pgx.Tx) (int64, error) {
	var next int64
	if err := tx.QueryRow(ctx, `UPDATE counters SET value = greatest(value + 1, $1)
		WHERE name = 'uidvalidity' RETURNING value`, s.now().Unix()).Scan(&next); err != nil {
		return 0, fmt.Errorf("update uidvalidity counter: %w", err)
	}
	if next > math.MaxUint32 {
		return 0, fmt.Errorf("uidvalidity counter exhausted (%d)", next)
	}
	return next, nil
}

const accountColumns = `SELECT id, address, domain_id, password_hash, created_at, quota_bytes FROM accounts`

// GetAccount returns an account by address; store.ErrNotFound if absent.
func (s *Store) GetAccount(ctx context.Context, address string) (store.Account, error) {
	address = strings.ToLower(address)
	a, err := scanAccount(s.pool.QueryRow(ctx, accountColumns+` WHERE address = $1`, address))
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %s: %w", address, notFound(err))
	}
	return a, nil
}

// GetAccountByID returns an account by id; store.ErrNotFound if absent.
func (s *Store) GetAccountByID(ctx context.Context, id int64) (store.Account, error) {
	a, err := scanAccount(s.pool.QueryRow(ctx, accountColumns+` WHERE id = $1`, id))
	if err != nil {
		return store.Account{}, fmt.Errorf("get account %d: %w", id, notFound(err))
	}
	return a, nil
}

// ListAccounts lists the accounts of one domain by address, or of all domains when domain is
// "". An unknown domain is store.ErrNotFound.
func (s *Store) ListAccounts(ctx context.Context, domain string) ([]store.Account, error) {
	domain = strings.ToLower(domain)
	var out []store.Account
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		query, args := accountColumns+` ORDER BY address`, []any{}
		if domain != "" {
			id, err := domainID(ctx, tx, domain)
			if err != nil {
				return err
			}
			query, args = accountColumns+` WHERE domain_id = $1 ORDER BY address`, []any{id}
		}
		rows, _ := tx.Query(ctx, query, args...)
		var err error
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Account, error) { return scanAccount(r) })
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
	if err := affectedOne(s.pool.Exec(ctx, `UPDATE accounts SET password_hash = $1 WHERE address = $2`,
		passwordHash, address)); err != nil {
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
	var quota *int64
	if quotaBytes != store.QuotaDefault {
		quota = &quotaBytes
	}
	if err := affectedOne(s.pool.Exec(ctx, `UPDATE accounts SET quota_bytes = $1 WHERE address = $2`,
		quota, address)); err != nil {
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
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE address = $1 FOR UPDATE`, address).Scan(&id); err != nil {
			return notFound(err)
		}
		// The mailboxes first, in id order as every writer of messages takes them.
		if _, err := tx.Exec(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 ORDER BY id FOR UPDATE`, id); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, `SELECT m.blob_id, count(*) FROM messages m
			JOIN mailboxes b ON b.id = m.mailbox_id WHERE b.account_id = $1 GROUP BY m.blob_id`, id)
		refs, err := pgx.CollectRows(rows, scanBlobRef)
		if err != nil {
			return err
		}
		// Deleting the account cascades to its mailboxes and their messages.
		unreferenced, err = dropBlobRefs(ctx, tx, refs, func() error {
			_, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, id)
			return err
		})
		if err != nil {
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

func scanBlobRef(r pgx.CollectableRow) (blobRef, error) {
	var b blobRef
	return b, r.Scan(&b.id, &b.n)
}

// dropBlobRefs takes references away from blobs, then runs remove, which deletes the rows that
// held them, then deletes the blob rows left without reference, with their full-text index
// rows, and returns their ids, sorted. The blob rows are locked (updated) in id order, before
// remove touches the message or queue rows: Deliver, CopyMessages and IndexTexts lock a blob
// before its message rows too, so no two of them can deadlock. The statements go in pipelined
// batches, whatever the number of blobs.
func dropBlobRefs(ctx context.Context, tx pgx.Tx, refs []blobRef, remove func() error) ([]string, error) {
	sort.Slice(refs, func(i, j int) bool { return refs[i].id < refs[j].id })
	var dec pgx.Batch
	var gone []string
	var docs []int64
	for _, r := range refs {
		dec.Queue(`UPDATE blobs SET refs = refs - $1 WHERE id = $2 RETURNING refs, text_doc`, r.n, r.id).Fn =
			func(br pgx.BatchResults) error {
				var left int64
				var doc *int64
				if err := br.QueryRow().Scan(&left, &doc); err != nil {
					return fmt.Errorf("blob %s: %w", r.id, err)
				}
				if left <= 0 {
					gone = append(gone, r.id)
					if doc != nil {
						docs = append(docs, *doc)
					}
				}
				return nil
			}
	}
	if err := sendBatch(ctx, tx, &dec); err != nil {
		return nil, err
	}
	if err := remove(); err != nil {
		return nil, err
	}
	var del pgx.Batch
	if len(gone) > 0 {
		queueExec(&del, "drop unreferenced blobs", `DELETE FROM blobs WHERE id = ANY($1)`, gone)
	}
	if len(docs) > 0 {
		queueExec(&del, "drop their text index rows", `DELETE FROM message_text WHERE id = ANY($1)`, docs)
	}
	if err := sendBatch(ctx, tx, &del); err != nil {
		return nil, err
	}
	return gone, nil
}

// AddAlias creates an alias ("@domain" is the domain's catch-all) whose targets are existing
// local accounts or aliases, kept in the order given without duplicates.
func (s *Store) AddAlias(ctx context.Context, address string, targets []string) (store.Alias, error) {
	addr, domain, err := store.SplitAddress(address, true)
	if err != nil {
		return store.Alias{}, fmt.Errorf("add alias: %w", err)
	}
	a := store.Alias{Address: addr, Targets: store.DedupeLower(targets)}
	if len(a.Targets) == 0 {
		return store.Alias{}, fmt.Errorf("add alias %s: no target", addr)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
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
		if err := tx.QueryRow(ctx, `INSERT INTO aliases (address, domain_id) VALUES ($1, $2) RETURNING id`,
			addr, domainID).Scan(&a.ID); err != nil {
			if uniqueViolation(err) {
				return fmt.Errorf("%s is an alias: %w", addr, store.ErrExists)
			}
			return err
		}
		positions := make([]int32, len(a.Targets))
		for i := range positions {
			positions[i] = int32(i)
		}
		_, err = tx.Exec(ctx, `INSERT INTO alias_targets (alias_id, position, target)
			SELECT $1, p, t FROM unnest($2::integer[], $3::text[]) AS x (p, t)`, a.ID, positions, a.Targets)
		return err
	})
	if err != nil {
		return store.Alias{}, fmt.Errorf("add alias %s: %w", addr, err)
	}
	return a, nil
}

// GetAlias returns an alias by address; store.ErrNotFound if absent.
func (s *Store) GetAlias(ctx context.Context, address string) (store.Alias, error) {
	address = strings.ToLower(address)
	aliases, err := s.queryAliases(ctx, `WHERE a.address = $1`, address)
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
	rows, _ := s.pool.Query(ctx, `SELECT a.id, a.address, t.target FROM aliases a
		LEFT JOIN alias_targets t ON t.alias_id = a.id `+where+` ORDER BY a.address, t.position`, args...)
	var out []store.Alias
	var (
		id      int64
		address string
		target  *string
	)
	_, err := pgx.ForEachRow(rows, []any{&id, &address, &target}, func() error {
		if len(out) == 0 || out[len(out)-1].ID != id {
			out = append(out, store.Alias{ID: id, Address: address})
		}
		if target != nil {
			last := &out[len(out)-1]
			last.Targets = append(last.Targets, *target)
		}
		return nil
	})
	return out, err
}

// RemoveAlias deletes an alias and the targets naming it in other aliases (an alias left
// without target is deleted too); store.ErrNotFound if absent.
func (s *Store) RemoveAlias(ctx context.Context, address string) error {
	address = strings.ToLower(address)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := affectedOne(tx.Exec(ctx, `DELETE FROM aliases WHERE address = $1`, address)); err != nil {
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
func pruneTargets(ctx context.Context, tx pgx.Tx, address string) error {
	for queue := []string{address}; len(queue) > 0; {
		addr := queue[0]
		queue = queue[1:]
		rows, _ := tx.Query(ctx, `DELETE FROM alias_targets WHERE target = $1 RETURNING alias_id`, addr)
		ids, err := pgx.CollectRows(rows, scanInt64)
		if err != nil {
			return fmt.Errorf("remove targets %s: %w", addr, err)
		}
		for _, id := range ids {
			var emptied string
			err := tx.QueryRow(ctx, `DELETE FROM aliases WHERE id = $1
				AND NOT EXISTS (SELECT 1 FROM alias_targets WHERE alias_id = $1) RETURNING address`, id).Scan(&emptied)
			if errors.Is(err, pgx.ErrNoRows) {
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
func domainID(ctx context.Context, q querier, name string) (int64, error) {
	var id int64
	err := q.QueryRow(ctx, `SELECT id FROM domains WHERE name = $1`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("domain %s: %w", name, store.ErrNotFound)
	}
	return id, err
}

// localDomainID is domainID for an address being created: an absent domain is
// store.ErrUnknownDomain. It takes a share lock on the domain row, so the domain cannot be
// removed before the transaction ends.
func localDomainID(ctx context.Context, tx pgx.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM domains WHERE name = $1 FOR SHARE`, name).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("domain %s: %w", name, store.ErrUnknownDomain)
	}
	return id, err
}

// checkFree returns store.ErrExists if an account or an alias has the address.
func checkFree(ctx context.Context, tx pgx.Tx, address string) error {
	var account, alias bool
	if err := tx.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM accounts WHERE address = $1),
		EXISTS (SELECT 1 FROM aliases WHERE address = $1)`, address).Scan(&account, &alias); err != nil {
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

func scanAccount(r pgx.Row) (store.Account, error) {
	var (
		a       store.Account
		created int64
		quota   *int64
	)
	err := r.Scan(&a.ID, &a.Address, &a.DomainID, &a.PasswordHash, &created, &quota)
	a.CreatedAt = fromNanos(created)
	a.QuotaBytes = store.QuotaDefault
	if quota != nil {
		a.QuotaBytes = *quota
	}
	return a, err
}

func scanDomain(r pgx.Row) (store.Domain, error) {
	var (
		d       store.Domain
		created int64
	)
	err := r.Scan(&d.ID, &d.Name, &created)
	d.CreatedAt = fromNanos(created)
	return d, err
}
