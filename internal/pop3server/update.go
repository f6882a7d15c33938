package pop3server

import (
	"time"

	"posthorn/internal/store"
)

// update is the UPDATE state (RFC 1939 §6), entered by QUIT from TRANSACTION: the messages
// retrieved and kept are marked \Seen, the messages marked as deleted are removed in one store
// transaction (IMAP sessions see EXPUNGE or VANISHED), and the session ends. A session that ends
// any other way changes nothing. A crash before the removal's commit leaves every message in
// place, untouched; the client was not told +OK, and finds them again in its next session.
// The +OK follows the commit; the bodies left without reference are deleted after it, as the
// client needs nothing more (a crash meanwhile leaves files that the orphan sweep removes).
func (s *session) update() error {
	d := s.drop
	var deleted, seen []uint32
	for _, m := range d.msgs {
		switch {
		case m.deleted:
			deleted = append(deleted, m.uid)
		case m.retrieved:
			seen = append(seen, m.uid)
		}
	}
	if len(seen) > 0 {
		// Only a courtesy to IMAP clients of the same account: a failure is no reason for -ERR.
		if _, _, err := s.server.Store.UpdateFlags(s.ctx, d.mailboxID, seen, store.FlagsAdd, []string{`\Seen`}, 0); err != nil {
			s.logger.Warn("mark retrieved messages seen", "err", err)
		}
	}
	var unreferenced []string
	if len(deleted) > 0 {
		start := time.Now()
		removed, blobs, err := s.expunge(deleted)
		if err != nil {
			s.logger.Error("remove deleted messages", "count", len(deleted), "err", err)
			s.release()
			s.writeErr(&errReply{code: "SYS/TEMP", text: "some deleted messages not removed"})
			return errQuit
		}
		unreferenced = blobs
		s.server.Metrics.deleted(len(removed))
		s.logger.Info("removed deleted messages", "count", len(removed), "took", time.Since(start))
	}
	// The lock goes before the +OK, so a client that logs in again at once finds it free.
	s.release()
	s.ok("%s posthorn POP3 signing off (%d messages left)", s.server.Hostname, d.count)
	if len(unreferenced) > 0 {
		_ = s.bw.Flush()
		s.server.removeBlobs(s.ctx, s.logger, unreferenced)
	}
	return errQuit
}

// expunge removes the messages of uids. It returns the UIDs removed (messages already expunged
// through IMAP are no error) and the bodies left without reference.
func (s *session) expunge(uids []uint32) (removed []uint32, unreferenced []string, err error) {
	return s.server.Store.RemoveMessages(s.ctx, s.drop.mailboxID, uids)
}
