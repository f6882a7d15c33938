-- The web UI (internal/websession): sessions, the admin flag and second factor of accounts,
-- recovery codes and recent web logins. Times are unix nanoseconds. Everything of an account
-- goes with it.

-- Sessions: id_hash is the SHA-256 of the session id (the cookie's value), never the id.
-- pending = 1: the password was right, the second factor is still to come.
CREATE TABLE web_sessions (
	id_hash    BLOB PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	pending    INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	source     TEXT NOT NULL DEFAULT '',
	user_agent TEXT NOT NULL DEFAULT ''
) STRICT, WITHOUT ROWID;
CREATE INDEX web_sessions_account ON web_sessions (account_id);

-- Per account: the admin flag and TOTP (the base32 secret, '' for none; enabled once its first
-- code confirmed it; the last time step a code was accepted for, against replays).
CREATE TABLE web_accounts (
	account_id     INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	admin          INTEGER NOT NULL DEFAULT 0,
	totp_secret    TEXT NOT NULL DEFAULT '',
	totp_enabled   INTEGER NOT NULL DEFAULT 0,
	totp_last_step INTEGER NOT NULL DEFAULT 0
) STRICT;

-- Recovery codes: the SHA-256 (hex) of each unused code; a used code's row is deleted.
CREATE TABLE web_recovery_codes (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	code_hash  TEXT NOT NULL,
	PRIMARY KEY (account_id, code_hash)
) STRICT, WITHOUT ROWID;

-- Recent web logins, shown to the account's owner; bounded per account.
CREATE TABLE web_logins (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	at         INTEGER NOT NULL,
	source     TEXT NOT NULL,
	user_agent TEXT NOT NULL
) STRICT;
CREATE INDEX web_logins_account ON web_logins (account_id, at);
