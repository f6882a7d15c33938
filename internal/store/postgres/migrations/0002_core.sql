-- What the mail store needs beyond 0001: the import ledger of SQLite's 0019_import.sql, and
-- trigram indexes for SearchText when the server has pg_trgm.

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
