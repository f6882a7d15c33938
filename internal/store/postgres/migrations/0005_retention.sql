-- Retention (internal/retention): the accounts under legal hold, whose mail and records the
-- daily retention job leaves alone; since is unix nanoseconds. The hold goes with the account.
CREATE TABLE legal_holds (
	account_id BIGINT PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	since      BIGINT NOT NULL
);

-- The job removes campaign opens and clicks older than [retention] tracking_days.
CREATE INDEX campaign_events_at ON campaign_events (at);
