-- The send API's requests (store.TransactionalSend). Each is a campaign of kind
-- 'transactional' with a ledger row per recipient; this table keeps who asked, the
-- idempotency key (NULL: none, never matched) and what the request was.
ALTER TABLE campaigns ADD COLUMN kind TEXT NOT NULL DEFAULT 'campaign'
	CHECK (kind IN ('campaign', 'transactional'));

CREATE TABLE transactional_sends (
	id              INTEGER PRIMARY KEY,
	principal       TEXT NOT NULL,
	idempotency_key TEXT,
	request_hash    BLOB NOT NULL,
	campaign_id     INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	suppressed      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(suppressed)),
	created_at      INTEGER NOT NULL,
	UNIQUE (principal, idempotency_key)
) STRICT;
CREATE INDEX transactional_sends_campaign ON transactional_sends (campaign_id);
