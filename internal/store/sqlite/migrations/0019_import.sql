-- The import ledger (internal/importer): one row per message imported into a mailbox, keyed by
-- the SHA-256 of its raw octets, written in the delivery's transaction (store.Target.ImportKey),
-- so a second run, or one after an interrupted run, knows what is there already. The rows go
-- with their mailbox.
CREATE TABLE imported_messages (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	key        BLOB NOT NULL,
	PRIMARY KEY (mailbox_id, key)
) STRICT, WITHOUT ROWID;
