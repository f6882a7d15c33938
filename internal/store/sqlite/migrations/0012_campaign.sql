-- Bulk mail (campaigns): the audience (lists, subscribers, their subscriptions with consent),
-- the suppression ledger, templates, campaigns with their send ledger, links and events, and
-- the soft-bounce counts. Times are unix nanoseconds; addresses are stored normalised
-- (internal/address: lower-case domain). The campaign key (token signing) is the server secret
-- named "campaign-key" in server_secrets (0010_login.sql).

-- opt_in: 'single' (a subscription is confirmed at once) or 'double' (confirmed by a link).
CREATE TABLE lists (
	id          INTEGER PRIMARY KEY,
	name        TEXT NOT NULL UNIQUE,
	description TEXT NOT NULL DEFAULT '',
	opt_in      TEXT NOT NULL CHECK (opt_in IN ('single', 'double')),
	created_at  INTEGER NOT NULL
) STRICT;

-- attributes: a JSON object of the subscriber's free attributes.
CREATE TABLE subscribers (
	id         INTEGER PRIMARY KEY,
	address    TEXT NOT NULL UNIQUE,
	name       TEXT NOT NULL DEFAULT '',
	attributes TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(attributes)),
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- One subscription per (subscriber, list) with its consent record (table subscriptions is the
-- IMAP one). consent_ip is truncated by the caller ('' when unknown).
CREATE TABLE list_subscriptions (
	subscriber_id    INTEGER NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
	list_id          INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
	status           TEXT NOT NULL CHECK (status IN ('unconfirmed', 'confirmed', 'unsubscribed')),
	consent_at       INTEGER NOT NULL,
	consent_source   TEXT NOT NULL CHECK (consent_source IN ('import', 'form', 'api', 'cli')),
	consent_ip       TEXT NOT NULL DEFAULT '',
	consent_text     TEXT NOT NULL DEFAULT '',
	tracking_consent INTEGER NOT NULL DEFAULT 0 CHECK (tracking_consent IN (0, 1)),
	updated_at       INTEGER NOT NULL,
	PRIMARY KEY (subscriber_id, list_id)
) STRICT, WITHOUT ROWID;
-- A list's subscriptions in subscriber order (paged listings, the ledger fill), status covered.
CREATE INDEX list_subscriptions_list ON list_subscriptions (list_id, subscriber_id, status);

-- The one suppression ledger every sending path checks. expires_at NULL: for ever.
CREATE TABLE suppressions (
	address    TEXT PRIMARY KEY,
	reason     TEXT NOT NULL CHECK (reason IN ('hard_bounce', 'soft_bounces', 'complaint', 'unsubscribe', 'manual')),
	source     TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	expires_at INTEGER
) STRICT, WITHOUT ROWID;

-- Soft bounces in a row per address; a delivery deletes the row.
CREATE TABLE soft_bounces (
	address TEXT PRIMARY KEY,
	count   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE templates (
	id         INTEGER PRIMARY KEY,
	name       TEXT NOT NULL UNIQUE,
	subject    TEXT NOT NULL DEFAULT '',
	html       TEXT NOT NULL DEFAULT '',
	text       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
) STRICT;

-- list_ids: a JSON array of list ids. rate_per_minute 0: no cap of its own.
CREATE TABLE campaigns (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL,
	template_id     INTEGER REFERENCES templates (id) ON DELETE SET NULL,
	subject         TEXT NOT NULL DEFAULT '',
	html            TEXT NOT NULL DEFAULT '',
	text            TEXT NOT NULL DEFAULT '',
	from_address    TEXT NOT NULL DEFAULT '',
	reply_to        TEXT NOT NULL DEFAULT '',
	list_ids        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(list_ids)),
	status          TEXT NOT NULL DEFAULT 'draft'
		CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'cancelled', 'finished')),
	scheduled_at    INTEGER,
	rate_per_minute INTEGER NOT NULL DEFAULT 0,
	tracking        INTEGER NOT NULL DEFAULT 0 CHECK (tracking IN (0, 1)),
	anonymous       INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
	created_at      INTEGER NOT NULL,
	started_at      INTEGER,
	finished_at     INTEGER
) STRICT;

-- The send ledger: filled once when a campaign starts, walked in id order; a row goes
-- pending -> queued in the transaction that queues its message (queue.campaign_recipient_id).
-- subscriber_id goes NULL when the subscriber is deleted: the row is then never sent.
-- tracking: the subscriber consented to tracking on one of the campaign's lists.
CREATE TABLE campaign_recipients (
	id            INTEGER PRIMARY KEY,
	campaign_id   INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	subscriber_id INTEGER REFERENCES subscribers (id) ON DELETE SET NULL,
	address       TEXT NOT NULL,
	state         TEXT NOT NULL DEFAULT 'pending'
		CHECK (state IN ('pending', 'queued', 'delivered', 'deferred', 'bounced', 'skipped')),
	tracking      INTEGER NOT NULL DEFAULT 0 CHECK (tracking IN (0, 1)),
	soft_bounce   INTEGER NOT NULL DEFAULT 0 CHECK (soft_bounce IN (0, 1)),
	updated_at    INTEGER NOT NULL,
	UNIQUE (campaign_id, address)
) STRICT;
CREATE INDEX campaign_recipients_state ON campaign_recipients (campaign_id, state, id);
CREATE INDEX campaign_recipients_subscriber ON campaign_recipients (subscriber_id);

CREATE TABLE campaign_links (
	campaign_id INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	idx         INTEGER NOT NULL,
	url         TEXT NOT NULL,
	PRIMARY KEY (campaign_id, idx)
) STRICT, WITHOUT ROWID;

-- recipient_id 0: the anonymous mode (the event names nobody). ip is truncated by the caller.
CREATE TABLE campaign_events (
	id           INTEGER PRIMARY KEY,
	campaign_id  INTEGER NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
	recipient_id INTEGER NOT NULL DEFAULT 0,
	kind         TEXT NOT NULL
		CHECK (kind IN ('open', 'click', 'unsubscribe', 'complaint', 'bounce', 'delivered', 'deferred')),
	link_idx     INTEGER,
	machine      INTEGER NOT NULL DEFAULT 0 CHECK (machine IN (0, 1)),
	reason       TEXT NOT NULL DEFAULT '',
	user_agent   TEXT NOT NULL DEFAULT '',
	ip           TEXT NOT NULL DEFAULT '',
	at           INTEGER NOT NULL
) STRICT;
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, kind, recipient_id);

-- The campaign ledger row a queue row delivers (0: not campaign mail).
ALTER TABLE queue ADD COLUMN campaign_recipient_id INTEGER NOT NULL DEFAULT 0;
