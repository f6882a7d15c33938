-- The first schema. Times are unix nanoseconds; every table is STRICT so a wrong type is refused.

CREATE TABLE domains (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE accounts (
	id            INTEGER PRIMARY KEY,
	address       TEXT NOT NULL UNIQUE,
	domain_id     INTEGER NOT NULL REFERENCES domains (id),
	password_hash TEXT NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX accounts_domain ON accounts (domain_id);

-- An alias address is "local@domain", or "@domain" for the domain's catch-all.
CREATE TABLE aliases (
	id        INTEGER PRIMARY KEY,
	address   TEXT NOT NULL UNIQUE,
	domain_id INTEGER NOT NULL REFERENCES domains (id)
) STRICT;
CREATE INDEX aliases_domain ON aliases (domain_id);

-- A target is the address of an account or of another alias, kept in the order given.
CREATE TABLE alias_targets (
	alias_id INTEGER NOT NULL REFERENCES aliases (id) ON DELETE CASCADE,
	position INTEGER NOT NULL,
	target   TEXT NOT NULL,
	PRIMARY KEY (alias_id, position)
) STRICT, WITHOUT ROWID;
CREATE INDEX alias_targets_target ON alias_targets (target);

-- RFC 9051 §2.3.1.1: UIDVALIDITY and the next UID; RFC 7162 §3.1.1: the highest MODSEQ, which
-- starts at 1 because HIGHESTMODSEQ must be a positive number.
CREATE TABLE mailboxes (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	special_use   TEXT NOT NULL DEFAULT '',
	uidvalidity   INTEGER NOT NULL,
	uidnext       INTEGER NOT NULL DEFAULT 1,
	highestmodseq INTEGER NOT NULL DEFAULT 1,
	UNIQUE (account_id, name)
) STRICT;

-- One row per message body in the blob store; refs counts the message rows naming it.
CREATE TABLE blobs (
	id   TEXT PRIMARY KEY,
	size INTEGER NOT NULL,
	refs INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- flags: the message's IMAP flags separated by single spaces (a flag never contains a space).
CREATE TABLE messages (
	id            INTEGER PRIMARY KEY,
	mailbox_id    INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid           INTEGER NOT NULL,
	modseq        INTEGER NOT NULL,
	flags         TEXT NOT NULL DEFAULT '',
	internal_date INTEGER NOT NULL,
	size          INTEGER NOT NULL,
	blob_id       TEXT NOT NULL REFERENCES blobs (id),
	envelope      BLOB,
	structure     BLOB,
	UNIQUE (mailbox_id, uid)
) STRICT;
CREATE INDEX messages_blob ON messages (blob_id);

-- Counters that must only grow over the life of the database, whatever rows are deleted.
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
INSERT INTO counters (name, value) VALUES ('uidvalidity', 0);
