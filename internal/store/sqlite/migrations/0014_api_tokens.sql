-- Tokens of the JSON API (internal/admin, tokens.go). A token is shown once as
-- ph_<id>_<secret>; only the keyed hash of its secret (auth.KeyedHash under the server secret
-- "api-token-key") is kept. scope 'admin' may use every route; scope 'account' acts for one
-- account (account_id) and goes with it. Times are unix nanoseconds; last_used_at and
-- revoked_at are 0 until the token is used or revoked. A revoked token stays listed.
CREATE TABLE api_tokens (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	name         TEXT NOT NULL,
	scope        TEXT NOT NULL CHECK (scope IN ('admin', 'account')),
	account_id   INTEGER REFERENCES accounts (id) ON DELETE CASCADE,
	secret_hash  TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER NOT NULL DEFAULT 0,
	revoked_at   INTEGER NOT NULL DEFAULT 0,
	CHECK ((scope = 'admin') = (account_id IS NULL))
) STRICT;
