-- The mail log kept for the message trace (internal/maillog, written in batches by its
-- Writer): one row per mail event with the mail log's keys. blob_id is the log's "id" (''
-- when no body was accepted); time is unix nanoseconds. sender is the envelope sender in the
-- searchable form (store.MailEventAddress: domain lower-cased), sender_domain its domain. rcpt is kept as logged
-- (comma-separated); mail_event_rcpts has one row per recipient in the searchable form, with
-- its domain, so that an event with several recipients is found by each. mail_event_mailboxes
-- is where a local delivery put the message.
CREATE TABLE mail_events (
	id      INTEGER PRIMARY KEY AUTOINCREMENT,
	time    INTEGER NOT NULL,
	event   TEXT NOT NULL,
	blob_id TEXT NOT NULL DEFAULT '',
	msgid   TEXT NOT NULL DEFAULT '',
	sender  TEXT NOT NULL DEFAULT '',
	sender_domain TEXT NOT NULL DEFAULT '',
	rcpt    TEXT NOT NULL DEFAULT '',
	result  TEXT NOT NULL DEFAULT '',
	code    TEXT NOT NULL DEFAULT '',
	remote  TEXT NOT NULL DEFAULT '',
	size    INTEGER NOT NULL DEFAULT 0,
	conn    TEXT NOT NULL DEFAULT '',
	reasons TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX mail_events_time ON mail_events (time);
CREATE INDEX mail_events_blob ON mail_events (blob_id) WHERE blob_id != '';
CREATE INDEX mail_events_msgid ON mail_events (msgid) WHERE msgid != '';
CREATE INDEX mail_events_sender ON mail_events (sender);
CREATE INDEX mail_events_sender_domain ON mail_events (sender_domain);

CREATE TABLE mail_event_rcpts (
	event_id INTEGER NOT NULL REFERENCES mail_events (id) ON DELETE CASCADE,
	address  TEXT NOT NULL,
	domain   TEXT NOT NULL,
	PRIMARY KEY (event_id, address)
) STRICT, WITHOUT ROWID;

CREATE INDEX mail_event_rcpts_address ON mail_event_rcpts (address, event_id);
CREATE INDEX mail_event_rcpts_domain ON mail_event_rcpts (domain, event_id);

CREATE TABLE mail_event_mailboxes (
	event_id INTEGER NOT NULL REFERENCES mail_events (id) ON DELETE CASCADE,
	account  TEXT NOT NULL,
	mailbox  TEXT NOT NULL,
	PRIMARY KEY (event_id, account, mailbox)
) STRICT, WITHOUT ROWID;
