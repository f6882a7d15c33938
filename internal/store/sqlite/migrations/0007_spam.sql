-- Spam classifier (internal/filter/spam): the Bayes models, what each account trained, its
-- allow and block lists, and the addresses it corresponds with. Times are unix nanoseconds.

-- A Bayes model: the global one (id 1, account_id NULL) and one per account that trained.
-- spam and ham count the messages trained as each class.
CREATE TABLE spam_models (
	id         INTEGER PRIMARY KEY,
	account_id INTEGER UNIQUE REFERENCES accounts (id) ON DELETE CASCADE,
	spam       INTEGER NOT NULL DEFAULT 0,
	ham        INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO spam_models (id, account_id) VALUES (1, NULL);

-- How many trained messages of each class held a token. token is the 64-bit FNV-1a hash of
-- the token's text, as a signed integer: no text of anyone's mail is kept. A row whose counts
-- both reach zero is deleted.
CREATE TABLE spam_tokens (
	model_id INTEGER NOT NULL REFERENCES spam_models (id) ON DELETE CASCADE,
	token    INTEGER NOT NULL,
	spam     INTEGER NOT NULL,
	ham      INTEGER NOT NULL,
	PRIMARY KEY (model_id, token)
) STRICT, WITHOUT ROWID;

-- The class a message body was trained as for an account (from a junk move), so that moving
-- it back unlearns that class before learning the other.
CREATE TABLE spam_trained (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	blob_id    TEXT NOT NULL,
	spam       INTEGER NOT NULL CHECK (spam IN (0, 1)),
	PRIMARY KEY (account_id, blob_id)
) STRICT, WITHOUT ROWID;

-- An account's allow list (block = 0) and block list (block = 1): a lower-cased address, or
-- "@" and a domain. An entry is on one list at most.
CREATE TABLE spam_lists (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	entry      TEXT NOT NULL,
	block      INTEGER NOT NULL CHECK (block IN (0, 1)),
	PRIMARY KEY (account_id, entry)
) STRICT, WITHOUT ROWID;

-- Addresses an account received mail from or sent mail to (lower-cased), for the
-- first-time-sender signal; the oldest beyond a bound per account are dropped.
CREATE TABLE spam_correspondents (
	account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	address    TEXT NOT NULL,
	last_seen  INTEGER NOT NULL,
	PRIMARY KEY (account_id, address)
) STRICT, WITHOUT ROWID;
CREATE INDEX spam_correspondents_age ON spam_correspondents (account_id, last_seen);
