-- The outbound queue: one row per remote recipient of an accepted message, holding a reference
-- to the message's blob (blobs.refs counts queue rows as well as message rows) until the
-- recipient is delivered, bounced or deleted; and the MTA-STS policies fetched for destination
-- domains (RFC 8461 §3.3: a policy is cached up to its max_age).

-- sender is the envelope sender, '' for the null sender of a DSN. domain is the recipient's
-- domain, lower-cased, so the scheduler groups rows by destination. priority: 0 normal, 1 bulk.
-- ret, envid, notify, orcpt: RFC 3461 DSN parameters ('' when not given). next_attempt and the
-- other times are unix nanoseconds.
CREATE TABLE queue (
	id             INTEGER PRIMARY KEY,
	blob_id        TEXT NOT NULL REFERENCES blobs (id),
	size           INTEGER NOT NULL,
	sender         TEXT NOT NULL,
	recipient      TEXT NOT NULL,
	domain         TEXT NOT NULL,
	priority       INTEGER NOT NULL DEFAULT 0,
	ret            TEXT NOT NULL DEFAULT '',
	envid          TEXT NOT NULL DEFAULT '',
	notify         TEXT NOT NULL DEFAULT '',
	orcpt          TEXT NOT NULL DEFAULT '',
	requiretls     INTEGER NOT NULL DEFAULT 0 CHECK (requiretls IN (0, 1)),
	smtputf8       INTEGER NOT NULL DEFAULT 0 CHECK (smtputf8 IN (0, 1)),
	eightbit       INTEGER NOT NULL DEFAULT 0 CHECK (eightbit IN (0, 1)),
	queued_at      INTEGER NOT NULL,
	next_attempt   INTEGER NOT NULL,
	attempts       INTEGER NOT NULL DEFAULT 0,
	last_error     TEXT NOT NULL DEFAULT '',
	held           INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1)),
	delay_notified INTEGER NOT NULL DEFAULT 0 CHECK (delay_notified IN (0, 1))
) STRICT;
CREATE INDEX queue_due ON queue (held, priority, next_attempt);
CREATE INDEX queue_blob ON queue (blob_id);

CREATE TABLE mtasts_policies (
	domain     TEXT PRIMARY KEY,
	policy_id  TEXT NOT NULL,
	policy     TEXT NOT NULL,
	fetched_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
