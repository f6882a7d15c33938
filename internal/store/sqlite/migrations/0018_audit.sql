-- The audit log (internal/audit): one row per administrative action, whichever interface it
-- came through. time is unix nanoseconds; actor_kind is cli, api, web or system; details a
-- JSON object or ''. The log is append-only: the triggers refuse deleting a row and changing
-- its id, time, actor_kind or action. Only actor, target and details may be rewritten, which
-- the erasure of a person's data does to replace their address with a pseudonym.
CREATE TABLE audit_log (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	time       INTEGER NOT NULL,
	actor_kind TEXT NOT NULL,
	actor      TEXT NOT NULL DEFAULT '',
	action     TEXT NOT NULL,
	target     TEXT NOT NULL DEFAULT '',
	details    TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX audit_log_time ON audit_log (time);

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_rewrite BEFORE UPDATE OF id, time, actor_kind, action ON audit_log
WHEN NEW.id IS NOT OLD.id OR NEW.time IS NOT OLD.time OR NEW.actor_kind IS NOT OLD.actor_kind
	OR NEW.action IS NOT OLD.action
BEGIN
	SELECT RAISE(ABORT, 'the audit log is append-only');
END;
