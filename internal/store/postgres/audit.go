package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The audit log (store.AuditStore), table audit_log of migrations/0003_rest.sql, whose
// triggers refuse deleting or truncating and rewriting an entry's id, time, actor kind or
// action, whatever SQL is used: only PseudonymiseAudit's rewrite of actor, target and details
// gets through.

var _ store.AuditStore = (*Store)(nil)

const auditColumns = `id, time, actor_kind, actor, action, target, details`

func scanAudit(r pgx.Row) (store.AuditEntry, error) {
	var e store.AuditEntry
	var at int64
	if err := r.Scan(&e.ID, &at, &e.ActorKind, &e.Actor, &e.Action, &e.Target, &e.Details); err != nil {
		return store.AuditEntry{}, err
	}
	e.Time = fromNanos(at).UTC()
	return e, nil
}

func collectAudit(rows pgx.Rows) ([]store.AuditEntry, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditEntry, error) { return scanAudit(r) })
}

// AppendAudit inserts one entry.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	out, err := scanAudit(s.pool.QueryRow(ctx, `INSERT INTO audit_log (time, actor_kind, actor, action, target, details)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+auditColumns,
		e.Time.UnixNano(), e.ActorKind, e.Actor, e.Action, e.Target, e.Details))
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit entry %s: %w", e.Action, err)
	}
	return out, nil
}

// ListAudit reads the entries f selects, in id order.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var where []string
	var args params
	if !f.Since.IsZero() {
		where = append(where, "time >= "+args.add(f.Since.UnixNano()))
	}
	if !f.Until.IsZero() {
		where = append(where, "time < "+args.add(f.Until.UnixNano()))
	}
	if f.ActorKind != "" {
		where = append(where, "actor_kind = "+args.add(f.ActorKind))
	}
	if f.Actor != "" {
		where = append(where, "actor = "+args.add(f.Actor))
	}
	if strings.HasSuffix(f.Action, ".") {
		where = append(where, "starts_with(action, "+args.add(f.Action)+")")
	} else if f.Action != "" {
		where = append(where, "action = "+args.add(f.Action))
	}
	if f.Target != "" {
		where = append(where, "target = "+args.add(f.Target))
	}
	if f.AfterID != 0 {
		where = append(where, "id > "+args.add(f.AfterID))
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	if f.Limit > 0 {
		q += " LIMIT " + args.add(f.Limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	out, err := collectAudit(rows)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return out, nil
}

// PseudonymiseAudit rewrites the entries mentioning personal in one transaction. lower()
// folds ASCII only under COLLATE "C", as SQLite's does, so the entries are found and
// rewritten (store.ReplaceFold) exactly as on SQLite.
func (s *Store) PseudonymiseAudit(ctx context.Context, personal, replacement string) (int, error) {
	if personal == "" {
		return 0, nil
	}
	var changed int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE strpos(lower(actor), $1) > 0
			OR strpos(lower(target), $1) > 0 OR strpos(lower(details), $1) > 0 ORDER BY id FOR UPDATE`,
			strings.ToLower(personal))
		if err != nil {
			return err
		}
		hits, err := collectAudit(rows)
		if err != nil {
			return err
		}
		for _, e := range hits {
			if _, err := tx.Exec(ctx, `UPDATE audit_log SET actor = $1, target = $2, details = $3 WHERE id = $4`,
				store.ReplaceFold(e.Actor, personal, replacement), store.ReplaceFold(e.Target, personal, replacement),
				store.ReplaceFold(e.Details, personal, replacement), e.ID); err != nil {
				return err
			}
		}
		changed = len(hits)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pseudonymise audit log: %w", err)
	}
	return changed, nil
}
