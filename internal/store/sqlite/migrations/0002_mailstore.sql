-- What mail access protocols need beyond delivery: a record of expunged UIDs, subscriptions,
-- junk moves for the spam filter, and an index for CONDSTORE CHANGEDSINCE.

-- RFC 7162 §3.2.10: the UIDs expunged from a mailbox, with the MODSEQ of their expunge, so that
-- a QRESYNC client can be told which of its UIDs VANISHED. UIDs are never reused while the
-- mailbox keeps its UIDVALIDITY, so (mailbox_id, uid) is unique.
CREATE TABLE expunged (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid        INTEGER NOT NULL,
	modseq     INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) STRICT, WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

-- RFC 9051 §6.3.7: the names an account subscribed to; a name need not exist as a mailbox.
CREATE TABLE subscriptions (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	PRIMARY KEY (account_id, name)
) STRICT, WITHOUT ROWID;

-- A message the user moved into (to_junk = 1) or out of Junk, for the spam filter to learn
-- from. blob_id is not a reference: the blob may be gone by the time the filter looks.
CREATE TABLE junk_moves (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	blob_id    TEXT NOT NULL,
	to_junk    INTEGER NOT NULL CHECK (to_junk IN (0, 1)),
	at         INTEGER NOT NULL
) STRICT;
CREATE INDEX junk_moves_account ON junk_moves (account_id, at);

-- RFC 7162 §3.1.4: CHANGEDSINCE reads the messages of a mailbox above a MODSEQ.
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
