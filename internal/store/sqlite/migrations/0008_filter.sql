-- Inbound filter (internal/filter): greylisting state, kept in SQL so that a restart does not
-- make every sender wait again. Times are unix nanoseconds.

-- One row per triplet "network/sender/recipient" (the client's /24 or /64, the envelope
-- sender, "<>" for the null sender, and the recipient). first_seen is the first attempt of the
-- current period, last_seen the latest attempt; passed is 1 once a retry came after the delay.
-- A row whose last_seen is older than the expiry is deleted (or restarted) as new rows arrive.
CREATE TABLE greylist (
	triplet    TEXT PRIMARY KEY,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	passed     INTEGER NOT NULL DEFAULT 0 CHECK (passed IN (0, 1))
) STRICT, WITHOUT ROWID;
CREATE INDEX greylist_last_seen ON greylist (last_seen);
