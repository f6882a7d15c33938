-- Submission (issue 4): what authenticated senders need besides their argon2id password hash.
-- Times are unix nanoseconds.

-- SCRAM-SHA-256 (RFC 5802, RFC 7677). One salt and iteration count per account, made the first
-- time one of its credentials is derived and kept afterwards, because the server names the salt
-- before it knows which credential (the password or an app password) the client holds.
-- stored_key and server_key belong to the account's password: NULL when the password was set
-- before SCRAM keys existed, and reset to NULL by the trigger below whenever the password hash
-- changes without them (so an old password can never pass SCRAM).
CREATE TABLE scram_credentials (
	account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	salt       BLOB NOT NULL,
	iterations INTEGER NOT NULL CHECK (iterations > 0),
	stored_key BLOB,
	server_key BLOB
) STRICT;
CREATE TRIGGER accounts_password_changed AFTER UPDATE OF password_hash ON accounts
WHEN OLD.password_hash IS NOT NEW.password_hash BEGIN
	UPDATE scram_credentials SET stored_key = NULL, server_key = NULL WHERE account_id = NEW.id;
END;

-- App passwords: extra generated passwords of an account, each with a name, usable wherever
-- the password is; argon2id hash plus SCRAM keys under the account's salt.
CREATE TABLE app_passwords (
	id            INTEGER PRIMARY KEY,
	account_id    INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	name          TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	stored_key    BLOB NOT NULL,
	server_key    BLOB NOT NULL,
	created_at    INTEGER NOT NULL,
	UNIQUE (account_id, name)
) STRICT;

-- Send-as: addresses ("local@domain") or whole domains ("@domain") an account may use as
-- envelope sender and From besides its own address and the aliases that lead to it.
CREATE TABLE send_as (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	address    TEXT NOT NULL,
	PRIMARY KEY (account_id, address)
) STRICT, WITHOUT ROWID;

-- Per-account sending limits in recipients per hour and per day; NULL follows the server's
-- default (config [limits]), 0 is no limit.
CREATE TABLE send_limits (
	account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,
	per_hour   INTEGER CHECK (per_hour >= 0),
	per_day    INTEGER CHECK (per_day >= 0)
) STRICT;

-- What each account submitted: one row per accepted message with its number of recipients,
-- kept for a day (rows older than that are pruned as new ones are written).
CREATE TABLE sent_log (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	at         INTEGER NOT NULL,
	recipients INTEGER NOT NULL
) STRICT;
CREATE INDEX sent_log_account_at ON sent_log (account_id, at);

-- DKIM signing keys (RFC 6376, RFC 8463), two per domain (rsa and ed25519), private keys as
-- PKCS #8 DER. The database file is as private as the password hashes it holds.
CREATE TABLE dkim_keys (
	id          INTEGER PRIMARY KEY,
	domain_id   INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,
	selector    TEXT NOT NULL,
	algorithm   TEXT NOT NULL CHECK (algorithm IN ('rsa', 'ed25519')),
	private_key BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	UNIQUE (domain_id, selector)
) STRICT;
