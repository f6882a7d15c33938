package imapserver

import (
	"strings"
	"time"
)

// cmdIdle: IDLE (RFC 2177, RFC 9051 §6.3.13). Updates go out as soon as the change feed has
// them, until the client sends DONE. A second goroutine waits for that line while this one
// waits for changes; it ends with the line (or with the connection).
func (s *session) cmdIdle(c *command) error {
	if err := s.sync(true); err != nil {
		return err
	}
	s.bw.WriteString("+ idling\r\n")
	if err := s.bw.Flush(); err != nil {
		return &connError{err}
	}
	s.server.Metrics.idle(1)
	defer s.server.Metrics.idle(-1)
	_ = s.conn.SetReadDeadline(time.Now().Add(s.server.idleTimeout()))
	type lineResult struct {
		line string
		err  error
	}
	lines := make(chan lineResult, 1)
	go func() {
		line, err := s.readLine(64)
		lines <- lineResult{line, err}
	}()
	// Until the line is in, the reader owns s.br: any other way out ends the connection and
	// waits for the reader, so that no command is read beside it.
	lineRead := false
	defer func() {
		if !lineRead {
			_ = s.conn.Close()
			<-lines
		}
	}()
	keepalive := time.NewTicker(idleKeepalive)
	defer keepalive.Stop()
	for {
		select {
		case r := <-lines:
			lineRead = true
			if r.err != nil {
				return r.err
			}
			if !strings.EqualFold(r.line, "DONE") {
				return badf("expected DONE")
			}
			return nil
		case <-s.changes:
			s.changed = true
			s.idleSync()
		case <-keepalive.C:
			s.untagged("OK still here")
			// Changes a store failure kept from the client are tried again.
			s.idleSync()
		case <-s.nc.ShuttingDown():
			// The session is working (in IDLE), so netserver leaves the goodbye to it.
			s.bye("server shutting down")
			return errLogout
		}
		_ = s.conn.SetWriteDeadline(time.Now().Add(writeTimeout))
		if err := s.bw.Flush(); err != nil {
			return &connError{err}
		}
	}
}

// idleSync sends what changed during IDLE. A store that does not answer ends neither IDLE
// nor the session: the changes stay to be read (session.changed), at the next keepalive or
// event, or after DONE.
func (s *session) idleSync() {
	if err := s.sync(true); err != nil {
		s.logger.Warn("mailbox update during IDLE", "err", err)
	}
}
