-- RFC 9208 QUOTA: an account's storage limit, and what each mailbox holds, kept by triggers on
-- every write of a message row, so that a quota check (at every SMTP recipient, every APPEND)
-- reads a few mailbox rows instead of summing every message of the account.

-- In octets; NULL follows the server's default (config limits.default_quota_mib), 0 is no limit.
ALTER TABLE accounts ADD COLUMN quota_bytes INTEGER CHECK (quota_bytes >= 0);

-- The number of messages of a mailbox and the sum of their sizes (RFC 8438 STATUS SIZE).
ALTER TABLE mailboxes ADD COLUMN message_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN message_bytes INTEGER NOT NULL DEFAULT 0;
UPDATE mailboxes SET
	message_count = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id),
	message_bytes = (SELECT coalesce(sum(m.size), 0) FROM messages m WHERE m.mailbox_id = mailboxes.id);

CREATE TRIGGER messages_counted_in AFTER INSERT ON messages BEGIN
	UPDATE mailboxes SET message_count = message_count + 1, message_bytes = message_bytes + NEW.size
	WHERE id = NEW.mailbox_id;
END;
CREATE TRIGGER messages_counted_out AFTER DELETE ON messages BEGIN
	UPDATE mailboxes SET message_count = message_count - 1, message_bytes = message_bytes - OLD.size
	WHERE id = OLD.mailbox_id;
END;
-- A move (MOVE, renaming INBOX) changes mailbox_id.
CREATE TRIGGER messages_counted_moved AFTER UPDATE OF mailbox_id, size ON messages
WHEN OLD.mailbox_id IS NOT NEW.mailbox_id OR OLD.size IS NOT NEW.size BEGIN
	UPDATE mailboxes SET message_count = message_count - 1, message_bytes = message_bytes - OLD.size
	WHERE id = OLD.mailbox_id;
	UPDATE mailboxes SET message_count = message_count + 1, message_bytes = message_bytes + NEW.size
	WHERE id = NEW.mailbox_id;
END;
