-- RFC 9051 §7.3.5, RFC 3501 §7.2.6: a mailbox's FLAGS list every keyword defined in it. keywords
-- holds, separated by single spaces, every keyword ever set on a message of the mailbox, in the
-- order first used (compared case-insensitively, spelled as first given); it only grows, as
-- the list a client has recorded from FLAGS does.
ALTER TABLE mailboxes ADD COLUMN keywords TEXT NOT NULL DEFAULT '';

-- RFC 3501 §2.3.2 \Recent: the messages with a UID of at least first_recent_uid have not been
-- seen by any session yet; the first session that selects the mailbox read-write claims them by
-- moving it to uidnext. Messages stored before this column existed count as seen.
ALTER TABLE mailboxes ADD COLUMN first_recent_uid INTEGER NOT NULL DEFAULT 1;
UPDATE mailboxes SET first_recent_uid = uidnext;

-- The keywords of the messages already stored: split every message's flags.
CREATE TEMP TABLE keywords_in_use AS
WITH RECURSIVE split (mailbox_id, id, rest, flag) AS (
	SELECT mailbox_id, id, flags || ' ', '' FROM messages WHERE flags <> ''
	UNION ALL
	SELECT mailbox_id, id, substr(rest, instr(rest, ' ') + 1), substr(rest, 1, instr(rest, ' ') - 1)
	FROM split WHERE rest <> ''
)
SELECT mailbox_id, flag, min(id) AS first FROM split
WHERE flag <> '' AND substr(flag, 1, 1) <> '\'
GROUP BY mailbox_id, flag COLLATE NOCASE;
UPDATE mailboxes SET keywords = coalesce((SELECT group_concat(flag, ' ')
	FROM (SELECT flag FROM keywords_in_use k WHERE k.mailbox_id = mailboxes.id ORDER BY first)), '');
DROP TABLE keywords_in_use;

-- FETCH FLAGS, UID, INTERNALDATE, RFC822.SIZE and MODSEQ (GetMessageMeta) read only this
-- index, not the message rows, whose envelopes and structures spread them over many pages.
CREATE INDEX messages_meta ON messages (mailbox_id, uid, modseq, internal_date, size, flags);
