-- State that several nodes share through the store: the login throttling's windowed failure
-- counts (store.ThrottleStore) and named expiring leases (store.Leases: singleton jobs, POP3
-- maildrop locks). Times are Unix nanoseconds of the database's clock.
CREATE TABLE throttle_counts (
	key        TEXT PRIMARY KEY,
	count      BIGINT NOT NULL,
	started_at BIGINT NOT NULL
);
CREATE INDEX throttle_counts_started ON throttle_counts (started_at);

CREATE TABLE leases (
	name       TEXT PRIMARY KEY,
	holder     TEXT NOT NULL,
	expires_at BIGINT NOT NULL
);
