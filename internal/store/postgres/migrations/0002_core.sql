-- What the mail store needs beyond 0001: the import ledger of SQLite's 0019_import.sql,
-- trigram indexes for SearchText when the server has pg_trgm, and statement-level counters.

-- The import ledger (internal/importer): one row per message imported into a mailbox, keyed by
-- the SHA-256 of its raw octets, written in the delivery's transaction (store.Target.ImportKey).
CREATE TABLE imported_messages (
	mailbox_id BIGINT NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	key        BYTEA NOT NULL,
	PRIMARY KEY (mailbox_id, key)
);

-- SearchText matches the lower-cased text with LIKE '%...%'; GIN trigram indexes let PostgreSQL
-- find the candidate rows without reading every text. pg_trgm is a trusted extension (a
-- database owner may create it) in PostgreSQL's contrib, which Debian's postgresql package
-- ships; where it cannot be created, the search reads the texts of the mailbox instead, with
-- the same answers.
DO $$
BEGIN
	CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
	RAISE NOTICE 'pg_trgm not available (%): text search runs without a trigram index', SQLERRM;
END $$;

DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
		CREATE INDEX message_text_header_trgm ON message_text USING gin (header gin_trgm_ops);
		CREATE INDEX message_text_body_trgm ON message_text USING gin (body gin_trgm_ops);
	END IF;
END $$;

-- The counters of mailboxes follow the message rows once per statement instead of once per
-- row: a delivery of a batch, an expunge or a move of thousands of messages updates each
-- mailbox row once, from the statement's transition tables. An update counts the difference of
-- its rows before and after (a flag change: none, and no mailbox row is written).
DROP TRIGGER messages_counted ON messages;
DROP TRIGGER messages_counted_moved ON messages;
DROP FUNCTION messages_count();

CREATE FUNCTION messages_count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'INSERT' THEN
		UPDATE mailboxes b SET message_count = b.message_count + d.n, message_bytes = b.message_bytes + d.bytes
		FROM (SELECT mailbox_id, count(*) AS n, sum(size) AS bytes FROM new_rows GROUP BY mailbox_id) d
		WHERE b.id = d.mailbox_id;
	ELSIF TG_OP = 'DELETE' THEN
		UPDATE mailboxes b SET message_count = b.message_count - d.n, message_bytes = b.message_bytes - d.bytes
		FROM (SELECT mailbox_id, count(*) AS n, sum(size) AS bytes FROM old_rows GROUP BY mailbox_id) d
		WHERE b.id = d.mailbox_id;
	ELSE
		UPDATE mailboxes b SET message_count = b.message_count + d.n, message_bytes = b.message_bytes + d.bytes
		FROM (SELECT mailbox_id, sum(n) AS n, sum(bytes) AS bytes FROM (
				SELECT mailbox_id, 1 AS n, size AS bytes FROM new_rows
				UNION ALL
				SELECT mailbox_id, -1, -size FROM old_rows) c
			GROUP BY mailbox_id HAVING sum(n) != 0 OR sum(bytes) != 0) d
		WHERE b.id = d.mailbox_id;
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER messages_counted_insert AFTER INSERT ON messages REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION messages_count_rows();
CREATE TRIGGER messages_counted_delete AFTER DELETE ON messages REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION messages_count_rows();
CREATE TRIGGER messages_counted_update AFTER UPDATE ON messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION messages_count_rows();
