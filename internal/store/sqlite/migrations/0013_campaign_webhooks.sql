-- Webhooks of campaign events (internal/campaign, webhook.go): each configured webhook's cursor
-- in campaign_events and its retry state, so that delivery resumes after a restart.

-- campaign_events is rebuilt with AUTOINCREMENT: a plain INTEGER PRIMARY KEY hands out the
-- largest id again once the newest events are deleted (with their campaign), and a webhook's
-- cursor past that id would then skip the new events. AUTOINCREMENT ids only ever grow.
CREATE TABLE campaign_events_new (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO campaign_events_new (id, campaign_id, recipient_id, kind, link_idx, machine, reason, user_agent, ip, at)
	SELECT id, campaign_id, recipient_id, kind, link_idx, machine, reason, user_agent, ip, at FROM campaign_events;
DROP TABLE campaign_events;
ALTER TABLE campaign_events_new RENAME TO campaign_events;
CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, kind, recipient_id);

-- name: the webhook's key (its URL). after_id: the last event id delivered (acknowledged with a
-- 2xx) or passed over as not subscribed to. failures: failed attempts in a row; next_attempt:
-- when to try again (unix nanoseconds, 0: now); last_error: the last failure, for the operator.
CREATE TABLE campaign_webhooks (
	name         TEXT PRIMARY KEY,
	after_id     INTEGER NOT NULL,
	failures     INTEGER NOT NULL DEFAULT 0,
	next_attempt INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	updated_at   INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
