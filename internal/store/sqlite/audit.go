package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"posthorn/internal/store"
)

var _ store.AuditStore = (*Store)(nil)

const auditColumns = `id, time, actor_kind, actor, action, target, details FROM audit_log`

func scanAudit(r scanner) (store.AuditEntry, error) {
	var e store.AuditEntry
	var at int64
	if err := r.Scan(&e.ID, &at, &e.ActorKind, &e.Actor, &e.Action, &e.Target, &e.Details); err != nil {
		return store.AuditEntry{}, err
	}
	e.Time = fromNanos(at).UTC()
	return e, nil
}

// AppendAudit inserts one entry.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (store.AuditEntry, error) {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	out, err := scanAudit(s.write.QueryRowContext(ctx, `INSERT INTO audit_log (time, actor_kind, actor, action, target, details)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING `+auditColumns[:strings.Index(auditColumns, " FROM")],
		e.Time.UnixNano(), e.ActorKind, e.Actor, e.Action, e.Target, e.Details))
	if err != nil {
		return store.AuditEntry{}, fmt.Errorf("append audit entry %s: %w", e.Action, err)
	}
	return out, nil
}

// ListAudit reads the entries f selects, in id order.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) { where, args = append(where, cond), append(args, arg) }
	if !f.Since.IsZero() {
		add("time >= ?", f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		add("time < ?", f.Until.UnixNano())
	}
	if f.ActorKind != "" {
		add("actor_kind = ?", f.ActorKind)
	}
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if strings.HasSuffix(f.Action, ".") {
		add("substr(action, 1, ?) = ?", len(f.Action))
		args = append(args, f.Action)
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.AfterID != 0 {
		add("id > ?", f.AfterID)
	}
	q := `SELECT ` + auditColumns
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := s.read.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	defer rows.Close()
	var out []store.AuditEntry
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, fmt.Errorf("list audit log: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return out, nil
}

// PseudonymiseAudit rewrites the entries mentioning personal (SQLite's lower and replace
// fold ASCII only and replace is case-sensitive, so each matching entry is rewritten in Go),
// in one transaction.
func (s *Store) PseudonymiseAudit(ctx context.Context, personal, replacement string) (int, error) {
	if personal == "" {
		return 0, nil
	}
	needle := strings.ToLower(personal)
	var changed int
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` WHERE instr(lower(actor), ?1) > 0
			OR instr(lower(target), ?1) > 0 OR instr(lower(details), ?1) > 0`, needle)
		if err != nil {
			return err
		}
		var hits []store.AuditEntry
		for rows.Next() {
			e, err := scanAudit(rows)
			if err != nil {
				rows.Close()
				return err
			}
			hits = append(hits, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, e := range hits {
			if _, err := tx.ExecContext(ctx, `UPDATE audit_log SET actor = ?, target = ?, details = ? WHERE id = ?`,
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
