package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"posthorn/internal/store"
)

var _ store.GDPRStore = (*Store)(nil)

// The conditions that find a person's rows, with ?1 the lower-cased address. SQLite's lower
// folds ASCII only, which is how addresses are compared everywhere in this store.
const (
	// A greylist triplet is "network/sender/recipient", and a network has a "/" of its own.
	// ?2 is the address escaped for LIKE.
	greylistNaming = `(instr(lower(triplet), '/' || ?1 || '/') > 0 OR lower(triplet) LIKE '%/' || ?2 ESCAPE '\')`
	// The audit log's condition is PseudonymiseAudit's (substrings), narrowed to whole
	// addresses in Go.
	auditNaming = `(instr(lower(actor), ?1) > 0 OR instr(lower(target), ?1) > 0 OR instr(lower(details), ?1) > 0)`
	// A mail log event names the person as sender, as a recipient, as the account of a local
	// copy, or in the text of its reply or reasons (a bounce quoting the address).
	mailEventNaming = `(lower(e.sender) = ?1
		OR e.id IN (SELECT event_id FROM mail_event_rcpts WHERE lower(address) = ?1)
		OR e.id IN (SELECT event_id FROM mail_event_mailboxes WHERE lower(account) = ?1)
		OR instr(lower(e.rcpt), ?1) > 0 OR instr(lower(e.code), ?1) > 0 OR instr(lower(e.result), ?1) > 0
		OR instr(lower(e.reasons), ?1) > 0 OR instr(lower(e.msgid), ?1) > 0)`
	transactionalNaming = `EXISTS (SELECT 1 FROM json_each(t.suppressed) j WHERE lower(j.value) = ?1)`
)

// likeEscape escapes LIKE's wildcards in s for ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// PersonalRecords reads every row naming the address, in one read transaction.
func (s *Store) PersonalRecords(ctx context.Context, address string) (store.PersonalRecords, error) {
	needle := strings.ToLower(strings.TrimSpace(address))
	out := store.PersonalRecords{Address: needle}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return out, fmt.Errorf("personal records of %s: %w", needle, err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to keep or lose
	steps := []func(context.Context, *sql.Tx, string, *store.PersonalRecords) error{
		personalAliases, personalAccountRows, personalQueue, personalAudience, personalCampaign,
		personalSpam, personalGreylist, personalAudit,
	}
	for _, step := range steps {
		if err := step(ctx, tx, needle, &out); err != nil {
			return out, fmt.Errorf("personal records of %s: %w", needle, err)
		}
	}
	return out, nil
}

func personalAliases(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.id, a.address, coalesce(t.target, '') FROM aliases a
		LEFT JOIN alias_targets t ON t.alias_id = a.id
		WHERE a.address = ?1 OR a.id IN (SELECT alias_id FROM alias_targets WHERE target = ?1)
		ORDER BY a.address, t.position`, needle)
	if err != nil {
		return err
	}
	return scanRows(rows, func(r scanner) error {
		var id int64
		var addr, target string
		if err := r.Scan(&id, &addr, &target); err != nil {
			return err
		}
		if n := len(out.Aliases); n == 0 || out.Aliases[n-1].ID != id {
			out.Aliases = append(out.Aliases, store.Alias{ID: id, Address: addr})
		}
		if target != "" {
			last := &out.Aliases[len(out.Aliases)-1]
			last.Targets = append(last.Targets, target)
		}
		return nil
	})
}

// personalAccountRows reads the send-as grants of the address and, when it is an account, its
// web sessions.
func personalAccountRows(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.address, g.address FROM send_as g JOIN accounts a ON a.id = g.account_id
		WHERE lower(g.address) = ?1 ORDER BY a.address`, needle)
	if err != nil {
		return err
	}
	if out.SendAsGrants, err = collect(rows, func(r scanner) (store.SendAsGrant, error) {
		var g store.SendAsGrant
		return g, r.Scan(&g.Account, &g.Address)
	}); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT w.account_id, w.pending, w.created_at, w.last_seen, w.source, w.user_agent
		FROM web_sessions w JOIN accounts a ON a.id = w.account_id WHERE a.address = ?1 ORDER BY w.created_at`, needle)
	if err != nil {
		return err
	}
	out.WebSessions, err = collect(rows, func(r scanner) (store.WebSession, error) {
		var ws store.WebSession
		var created, seen int64
		err := r.Scan(&ws.AccountID, &ws.Pending, &created, &seen, &ws.Source, &ws.UserAgent)
		ws.CreatedAt, ws.LastSeen = fromNanos(created), fromNanos(seen)
		return ws, err
	})
	return err
}

func personalQueue(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, queueColumns+` WHERE lower(sender) = ?1 OR lower(recipient) = ?1
		ORDER BY queued_at, id`, needle)
	if err != nil {
		return err
	}
	out.Queue, err = collect(rows, scanQueued)
	return err
}

// personalAudience reads the subscriber with its subscriptions, suppressions and soft bounces.
func personalAudience(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	sub, err := scanSubscriber(tx.QueryRowContext(ctx, subscriberColumns+` WHERE s.address = ?`, needle))
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		out.Subscriber = &sub
		rows, err := tx.QueryContext(ctx, `SELECT `+subscriptionFields+`, ls.name FROM list_subscriptions l
			JOIN lists ls ON ls.id = l.list_id WHERE l.subscriber_id = ? ORDER BY ls.name`, sub.ID)
		if err != nil {
			return err
		}
		if out.Subscriptions, err = collect(rows, func(r scanner) (store.ListSubscription, error) {
			var f subscriptionScan
			var name string
			err := r.Scan(append(f.dest(), &name)...)
			return store.ListSubscription{Subscription: f.subscription(), List: name}, err
		}); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, suppressionColumns+` WHERE lower(address) = ?1 ORDER BY address`, needle)
	if err != nil {
		return err
	}
	if out.Suppressions, err = collect(rows, scanSuppression); err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(count), 0) FROM soft_bounces WHERE lower(address) = ?1`,
		needle).Scan(&out.SoftBounces)
	return err
}

// personalCampaign reads the send-ledger rows addressed to the person, their events, and the
// transactional sends whose suppressed list names the address.
func personalCampaign(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, recipientColumns+` FROM campaign_recipients r
		LEFT JOIN subscribers s ON s.id = r.subscriber_id WHERE lower(r.address) = ?1 ORDER BY r.id`, needle)
	if err != nil {
		return err
	}
	if out.CampaignRecipients, err = collect(rows, func(r scanner) (store.Recipient, error) { return scanRecipient(r) }); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT e.id, e.campaign_id, e.recipient_id, e.kind, coalesce(e.link_idx, -1),
		e.machine, e.reason, e.user_agent, e.ip, e.at FROM campaign_events e
		WHERE e.recipient_id IN (SELECT id FROM campaign_recipients WHERE lower(address) = ?1) ORDER BY e.id`, needle)
	if err != nil {
		return err
	}
	if out.CampaignEvents, err = collect(rows, func(r scanner) (store.Event, error) {
		var e store.Event
		var kind string
		var at int64
		err := r.Scan(&e.ID, &e.CampaignID, &e.RecipientID, &kind, &e.LinkIndex, &e.Machine, &e.Reason,
			&e.UserAgent, &e.IP, &at)
		e.Kind, e.At = store.EventKind(kind), fromNanos(at)
		return e, err
	}); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT t.id FROM transactional_sends t WHERE `+transactionalNaming+` ORDER BY t.id`, needle)
	if err != nil {
		return err
	}
	out.TransactionalSends, err = collect(rows, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	return err
}

func personalSpam(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, `SELECT a.address, l.entry, l.block FROM spam_lists l
		JOIN accounts a ON a.id = l.account_id WHERE lower(l.entry) = ?1 ORDER BY a.address`, needle)
	if err != nil {
		return err
	}
	if out.SpamListEntries, err = collect(rows, func(r scanner) (store.AccountSpamEntry, error) {
		var e store.AccountSpamEntry
		return e, r.Scan(&e.Account, &e.Entry, &e.Block)
	}); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT a.address, c.address, c.last_seen FROM spam_correspondents c
		JOIN accounts a ON a.id = c.account_id WHERE lower(c.address) = ?1 ORDER BY a.address`, needle)
	if err != nil {
		return err
	}
	out.Correspondents, err = collect(rows, func(r scanner) (store.AccountCorrespondent, error) {
		var c store.AccountCorrespondent
		var at int64
		err := r.Scan(&c.Account, &c.Address, &at)
		c.LastSeen = fromNanos(at)
		return c, err
	})
	return err
}

func personalGreylist(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, `SELECT triplet, first_seen, last_seen, passed FROM greylist
		WHERE `+greylistNaming+` ORDER BY triplet`,
		needle, likeEscape(needle))
	if err != nil {
		return err
	}
	out.Greylist, err = collect(rows, func(r scanner) (store.GreylistEntry, error) {
		var g store.GreylistEntry
		var first, last int64
		err := r.Scan(&g.Triplet, &first, &last, &g.Passed)
		g.FirstSeen, g.LastSeen = fromNanos(first), fromNanos(last)
		return g, err
	})
	return err
}

func personalAudit(ctx context.Context, tx *sql.Tx, needle string, out *store.PersonalRecords) error {
	rows, err := tx.QueryContext(ctx, `SELECT `+auditColumns+` WHERE `+auditNaming+` ORDER BY id`, needle)
	if err != nil {
		return err
	}
	entries, err := collect(rows, scanAudit)
	for _, e := range entries {
		// The condition finds substrings; an export shows only the entries naming the whole
		// address, never those of someone whose address merely ends like it.
		if store.ContainsAddress(e.Actor, needle) || store.ContainsAddress(e.Target, needle) ||
			store.ContainsAddress(e.Details, needle) {
			out.AuditEntries = append(out.AuditEntries, e)
		}
	}
	return err
}

// personalEventPage is how many mail log events PersonalMailEvents reads at a time.
const personalEventPage = 500

// PersonalMailEvents reads the person's mail log events page by page, oldest first.
func (s *Store) PersonalMailEvents(ctx context.Context, address string, fn func(store.MailEvent) error) error {
	needle := strings.ToLower(strings.TrimSpace(address))
	for after := int64(0); ; {
		page, err := s.readMailEvents(ctx, `SELECT `+mailEventColumns+` FROM mail_events e
			WHERE e.id > ?2 AND `+mailEventNaming+` ORDER BY e.id LIMIT ?3`, needle, after, personalEventPage)
		if err != nil {
			return fmt.Errorf("mail events of %s: %w", needle, err)
		}
		for _, e := range page {
			if !mailEventNames(e, needle) {
				continue // an address that only ends like the person's
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < personalEventPage {
			return nil
		}
		after = page[len(page)-1].ID
	}
}

// mailEventNames reports whether e names the address needle as a whole address.
func mailEventNames(e store.MailEvent, needle string) bool {
	for _, m := range e.Mailboxes {
		if strings.ToLower(m.Account) == needle {
			return true
		}
	}
	for _, f := range []string{e.From, e.Rcpt, e.Code, e.Result, e.Reasons, e.MsgID} {
		if store.ContainsAddress(f, needle) {
			return true
		}
	}
	return false
}

// ErasePersonalData deletes and rewrites the person's rows in one transaction.
func (s *Store) ErasePersonalData(ctx context.Context, address, pseudonym string) (store.Erased, error) {
	needle := strings.ToLower(strings.TrimSpace(address))
	var out store.Erased
	if needle == "" || pseudonym == "" {
		return out, fmt.Errorf("erase personal data: want an address and a pseudonym")
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		out = store.Erased{}
		for _, step := range []func(context.Context, *sql.Tx, string, string, *store.Erased) error{
			eraseDirectory, eraseQueue, eraseAudience, eraseMailEvents,
		} {
			if err := step(ctx, tx, needle, pseudonym, &out); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return store.Erased{}, fmt.Errorf("erase personal data of %s: %w", needle, err)
	}
	return out, nil
}

// execCount runs a statement and returns the rows it changed.
func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// eraseDirectory removes aliases at the address (and the address among alias targets),
// send-as grants of it, and the spam filter's and greylisting's rows naming it.
func eraseDirectory(ctx context.Context, tx *sql.Tx, needle, _ string, out *store.Erased) error {
	var err error
	if out.Aliases, err = execCount(ctx, tx, `DELETE FROM aliases WHERE address = ?1`, needle); err != nil {
		return err
	}
	var targets int64
	if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT alias_id) FROM alias_targets WHERE target = ?1`,
		needle).Scan(&targets); err != nil {
		return err
	}
	out.Aliases += targets
	if err := pruneTargets(ctx, tx, needle); err != nil {
		return err
	}
	if out.SendAsGrants, err = execCount(ctx, tx, `DELETE FROM send_as WHERE lower(address) = ?1`, needle); err != nil {
		return err
	}
	if out.SpamListEntries, err = execCount(ctx, tx, `DELETE FROM spam_lists WHERE lower(entry) = ?1`, needle); err != nil {
		return err
	}
	if out.Correspondents, err = execCount(ctx, tx, `DELETE FROM spam_correspondents WHERE lower(address) = ?1`, needle); err != nil {
		return err
	}
	out.Greylist, err = execCount(ctx, tx, `DELETE FROM greylist WHERE `+greylistNaming, needle, likeEscape(needle))
	return err
}

// eraseQueue deletes the queue rows from or to the address with their blob references.
func eraseQueue(ctx context.Context, tx *sql.Tx, needle, _ string, out *store.Erased) error {
	rows, err := tx.QueryContext(ctx, `DELETE FROM queue WHERE lower(sender) = ?1 OR lower(recipient) = ?1
		RETURNING blob_id`, needle)
	if err != nil {
		return err
	}
	blobs, err := collect(rows, func(r scanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	})
	if err != nil {
		return err
	}
	out.Queue = int64(len(blobs))
	count := map[string]int64{}
	var refs []blobRef
	for _, id := range blobs {
		if count[id] == 0 {
			refs = append(refs, blobRef{id: id})
		}
		count[id]++
	}
	for i := range refs {
		refs[i].n = count[refs[i].id]
	}
	out.Unreferenced, err = dropBlobRefs(ctx, tx, refs)
	return err
}

// eraseAudience deletes the subscriber (its subscriptions go with it), the events of its
// ledger rows, its suppressions and soft bounces, and writes the pseudonym into its ledger
// rows and the suppressed lists of transactional sends.
func eraseAudience(ctx context.Context, tx *sql.Tx, needle, pseudonym string, out *store.Erased) error {
	var err error
	if out.CampaignEvents, err = execCount(ctx, tx, `DELETE FROM campaign_events WHERE recipient_id IN
		(SELECT id FROM campaign_recipients WHERE lower(address) = ?1)`, needle); err != nil {
		return err
	}
	if out.CampaignRecipients, err = execCount(ctx, tx, `UPDATE campaign_recipients SET address = ?2, subscriber_id = NULL
		WHERE lower(address) = ?1`, needle, pseudonym); err != nil {
		return err
	}
	if out.Subscribers, err = execCount(ctx, tx, `DELETE FROM subscribers WHERE address = ?1`, needle); err != nil {
		return err
	}
	if out.Suppressions, err = execCount(ctx, tx, `DELETE FROM suppressions WHERE lower(address) = ?1`, needle); err != nil {
		return err
	}
	if out.SoftBounces, err = execCount(ctx, tx, `DELETE FROM soft_bounces WHERE lower(address) = ?1`, needle); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT t.id, t.suppressed FROM transactional_sends t WHERE `+transactionalNaming, needle)
	if err != nil {
		return err
	}
	type send struct {
		id   int64
		list string
	}
	sends, err := collect(rows, func(r scanner) (send, error) {
		var s send
		return s, r.Scan(&s.id, &s.list)
	})
	if err != nil {
		return err
	}
	for _, t := range sends {
		var list []string
		if err := json.Unmarshal([]byte(t.list), &list); err != nil {
			return fmt.Errorf("suppressed list of transactional send %d: %w", t.id, err)
		}
		for i, a := range list {
			if strings.ToLower(a) == needle {
				list[i] = pseudonym
			}
		}
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE transactional_sends SET suppressed = ? WHERE id = ?`, string(b), t.id); err != nil {
			return err
		}
	}
	out.TransactionalSends = int64(len(sends))
	return nil
}

// eraseMailEvents writes the pseudonym in place of the address in every mail log event naming
// it: the sender, each recipient, the account of a local copy, and the text columns. The
// domains of the sender and recipients go too: a person's own domain may name them.
func eraseMailEvents(ctx context.Context, tx *sql.Tx, needle, pseudonym string, out *store.Erased) error {
	rows, err := tx.QueryContext(ctx, `SELECT e.id, e.sender, e.rcpt, e.code, e.result, e.reasons, e.msgid
		FROM mail_events e WHERE `+mailEventNaming, needle)
	if err != nil {
		return err
	}
	type event struct {
		id     int64
		fields [6]string // sender, rcpt, code, result, reasons, msgid
	}
	events, err := collect(rows, func(r scanner) (event, error) {
		var e event
		f := &e.fields
		return e, r.Scan(&e.id, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5])
	})
	if err != nil {
		return err
	}
	update, err := tx.PrepareContext(ctx, `UPDATE mail_events SET sender = ?, sender_domain = ?, rcpt = ?, code = ?,
		result = ?, reasons = ?, msgid = ? WHERE id = ?`)
	if err != nil {
		return err
	}
	defer update.Close()
	for _, e := range events {
		f := e.fields
		hit := false
		for i := range f {
			var ok bool
			f[i], ok = store.ReplaceAddress(f[i], needle, pseudonym)
			hit = hit || ok
		}
		if !hit {
			continue // an address that only ends like the person's
		}
		senderDomain := ""
		if at := strings.LastIndexByte(f[0], '@'); at >= 0 {
			senderDomain = strings.ToLower(f[0][at+1:])
		}
		if _, err := update.ExecContext(ctx, f[0], senderDomain, f[1], f[2], f[3], f[4], f[5], e.id); err != nil {
			return err
		}
		out.MailEvents++
	}
	var n int64
	if n, err = execCount(ctx, tx, `UPDATE OR REPLACE mail_event_rcpts SET address = ?2, domain = ''
		WHERE lower(address) = ?1`, needle, pseudonym); err != nil {
		return err
	}
	m, err := execCount(ctx, tx, `UPDATE OR REPLACE mail_event_mailboxes SET account = ?2 WHERE lower(account) = ?1`,
		needle, pseudonym)
	if out.MailEvents == 0 && n+m > 0 {
		out.MailEvents = max(n, m)
	}
	return err
}

// checkpointPatience is how long PurgeFreed waits for readers (another process: the server)
// to let the write-ahead log be emptied.
const checkpointPatience = 30 * time.Second

// PurgeFreed merges the full-text index (so the deleted rows' terms leave its segments),
// rebuilds the database file with VACUUM (so no free page keeps deleted rows), and checkpoints
// the write-ahead log with TRUNCATE (so no frame keeps them either). VACUUM rewrites the whole
// file and holds the write lock meanwhile (seconds per GiB): writers of other processes wait
// for it up to their busy timeout. SQLite's secure_delete would zero freed content instead,
// but only on the connection that deletes, and for every delete of the server.
func (s *Store) PurgeFreed(ctx context.Context) error {
	// FTS5 deletes of a contentless table are tombstones until segments merge: 'optimize'
	// merges them all into one, without the deleted documents.
	if _, err := s.write.ExecContext(ctx, `INSERT INTO message_text (message_text) VALUES ('optimize')`); err != nil {
		return fmt.Errorf("merge the full-text index: %w", err)
	}
	if _, err := s.write.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("vacuum the database: %w", err)
	}
	deadline := time.Now().Add(checkpointPatience)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var busy, frames, done int
		if err := s.write.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done); err != nil {
			return fmt.Errorf("checkpoint the write-ahead log: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("checkpoint the write-ahead log: readers kept it busy for %v; "+
				"it still holds old pages until the last process using the database closes it", checkpointPatience)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}
