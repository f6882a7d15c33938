-- Logins: what the authenticator keeps besides the credentials themselves.

-- Server secrets, each made once and kept: the key of the app passwords' keyed hashes
-- (HMAC-SHA-256), shared by every process that opens the database (the server and the CLI).
CREATE TABLE server_secrets (
	name  TEXT PRIMARY KEY,
	value BLOB NOT NULL
) STRICT, WITHOUT ROWID;

-- App passwords are found by their keyed hash ("$hmac-sha256$..." in password_hash) instead
-- of being tried one by one; rows written before keyed hashes keep their argon2id hash until
-- the app password is next used.
CREATE INDEX app_passwords_hash ON app_passwords (account_id, password_hash);

-- The sources (an IPv4 address, or an IPv6 /64, as "prefix/bits") each account has logged in
-- from, with the time of the last success (unix nanoseconds): failed logins of strangers do not
-- throttle a known source. Bounded per account (the most recent are kept).
CREATE TABLE login_sources (
	account_id   INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	source       TEXT NOT NULL,
	last_success INTEGER NOT NULL,
	PRIMARY KEY (account_id, source)
) STRICT, WITHOUT ROWID;
CREATE INDEX login_sources_recent ON login_sources (account_id, last_success);
