package imapserver

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

type appendArgs struct {
	mailbox string
	flags   []string
	date    time.Time
	hasDate bool
	utf8    bool // RFC 6855 §4: UTF8 (~{n})
	lit     literalMarker
}

// parseAppend: APPEND SP mailbox [SP flag-list] [SP date-time] SP literal, or with UTF8=ACCEPT
// SP "UTF8" SP "(" literal8 ")" (RFC 6855 §4), or a literal8 (RFC 3516 BINARY). It stops at the
// literal marker, which must end the line.
func parseAppend(p *parser, c *command) error {
	a := &appendArgs{}
	c.args = a
	if err := p.spAstring(&a.mailbox); err != nil {
		return err
	}
	var err error
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		if a.flags, err = p.flagList(); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	if p.peek() == '"' {
		if a.date, err = p.dateTime(); err != nil {
			return err
		}
		a.hasDate = true
		if err := p.sp(); err != nil {
			return err
		}
	}
	if p.tryKeyword("UTF8") {
		if err := p.sp(); err != nil {
			return err
		}
		if err := p.expect('('); err != nil {
			return err
		}
		a.utf8 = true
		if p.peek() != '~' {
			return p.missing("literal8")
		}
	}
	a.lit, err = p.literalHeader()
	return err
}

// finishAppend reads what follows APPEND's message literal: ")" after a UTF8 literal, then the
// end of the command.
func finishAppend(p *parser, a *appendArgs) error {
	if err := p.readLine(); err != nil {
		return err
	}
	if a.utf8 {
		if err := p.expect(')'); err != nil {
			return err
		}
	}
	return p.eol()
}

// cmdAppend: APPEND (RFC 9051 §6.3.12) with APPENDUID (UIDPLUS, RFC 4315 §3), APPENDLIMIT (RFC
// 7889) and the UTF8 form of RFC 6855 §4. The message is streamed from the connection into a
// new delivery.Draft and committed: the tagged OK is written only once it is durable (the
// design's first invariant), exactly as for SMTP.
func (s *session) cmdAppend(c *command) error {
	a := c.args.(*appendArgs)
	mb, err := s.checkAppend(a)
	if err != nil {
		// Refused before the message was read: a synchronizing literal is never asked for,
		// a non-synchronizing one is read and dropped.
		if serr := s.p.skip(); serr != nil {
			return &connError{serr}
		}
		return err
	}
	draft, err := s.server.Committer.NewDraft(s.ctx)
	if err != nil {
		_ = s.p.skip()
		return err
	}
	// Every refusal below leaves the draft uncommitted: its body goes here.
	defer draft.Abort()
	if err := s.p.acceptLiteral(a.lit); err != nil {
		return &connError{err}
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(s.server.idleTimeout()))
	if _, err := io.CopyN(draft, s.br, a.lit.size); err != nil {
		var ne interface{ Timeout() bool }
		if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return &connError{err}
		}
		return fmt.Errorf("write message body: %w", err)
	}
	s.p.read += a.lit.size
	if err := finishAppend(s.p, a); err != nil {
		var resp *response
		if errors.As(err, &resp) {
			_ = s.p.skip()
			return resp
		}
		return &connError{err}
	}
	var date time.Time // zero: now
	if a.hasDate {
		date = a.date
	}
	// A message the user files himself is indexed at once: he may search for it next.
	committed, err := draft.Commit(s.ctx, delivery.Message{
		InternalDate: date,
		Targets:      []store.Target{{AccountID: s.account.ID, Mailbox: mb.Name, Flags: appendFlags(a.flags)}},
		IndexText:    true,
	})
	if errors.Is(err, store.ErrNotFound) {
		return no("TRYCREATE", "mailbox does not exist")
	}
	if err != nil {
		return err
	}
	s.server.Metrics.appended(a.lit.size)
	// RFC 4315 §3: APPENDUID uidvalidity uid.
	return okCode(fmt.Sprintf("APPENDUID %d %d", mb.UIDValidity, committed.Delivered[0].UID), "APPEND completed")
}

// checkAppend checks an APPEND before its message is read: the target mailbox, the size, the
// quota.
func (s *session) checkAppend(a *appendArgs) (store.Mailbox, error) {
	name, err := s.mailboxName(a.mailbox)
	if err != nil {
		return store.Mailbox{}, err
	}
	if a.lit.size > s.server.appendLimit() {
		return store.Mailbox{}, no("TOOBIG", fmt.Sprintf("message over the limit of %d octets", s.server.appendLimit())) // RFC 7889 §4
	}
	if a.lit.size == 0 {
		return store.Mailbox{}, no("CANNOT", "empty message")
	}
	if err := s.checkQuota(a.lit.size); err != nil {
		return store.Mailbox{}, err // RFC 9208 §4.3.1: NO [OVERQUOTA]
	}
	for _, f := range a.flags {
		if strings.HasPrefix(f, `\`) && !isSystemFlag(f) && f != `\Recent` {
			return store.Mailbox{}, badf("unknown system flag %s", f)
		}
	}
	mb, err := s.server.Store.GetMailbox(s.ctx, s.account.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return mb, no("TRYCREATE", "mailbox does not exist") // RFC 9051 §6.3.12
	}
	return mb, err
}

// appendFlags drops \Recent, which a client cannot set (RFC 9051 §2.3.2).
func appendFlags(flags []string) []string {
	out := flags[:0:0]
	for _, f := range flags {
		if f != `\Recent` {
			out = append(out, f)
		}
	}
	return out
}

func isSystemFlag(f string) bool {
	for _, sys := range systemFlags {
		if f == sys {
			return true
		}
	}
	return false
}
