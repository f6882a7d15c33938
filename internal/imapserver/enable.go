package imapserver

import "strings"

type enableArgs struct{ caps []string } // upper case

// parseEnable: ENABLE 1*(SP capability) (RFC 5161).
func parseEnable(p *parser, c *command) error {
	a := &enableArgs{}
	c.args = a
	for p.consume(' ') {
		cap, err := p.keyword()
		if err != nil {
			return err
		}
		a.caps = append(a.caps, cap)
	}
	if len(a.caps) == 0 {
		return p.missing("capability")
	}
	return nil
}

// cmdEnable: ENABLE (RFC 5161). The answer lists the extensions this command enabled; unknown
// ones are ignored, as §3.1 asks.
func (s *session) cmdEnable(c *command) error {
	var enabled []string
	for _, name := range c.args.(*enableArgs).caps {
		switch name {
		case "CONDSTORE": // RFC 7162 §3.1
			if !s.condstore {
				s.condstore = true
				enabled = append(enabled, "CONDSTORE")
			}
		case "QRESYNC": // RFC 7162 §3.2.3: implies CONDSTORE
			if !s.qresync {
				s.qresync, s.condstore = true, true
				enabled = append(enabled, "QRESYNC")
			}
		case "UTF8=ACCEPT": // RFC 6855 §3
			if !s.utf8Accept {
				s.utf8Accept = true
				enabled = append(enabled, "UTF8=ACCEPT")
			}
		case "IMAP4REV2": // RFC 9051 §6.3.1
			if !s.rev2 {
				s.rev2 = true
				enabled = append(enabled, "IMAP4rev2")
			}
		}
	}
	s.untagged("ENABLED%s", prefixSpace(strings.Join(enabled, " ")))
	return nil
}

// enableCondstore runs for a CONDSTORE enabling command (RFC 7162 §3.1): "The first CONDSTORE
// enabling command executed in the session with a currently selected mailbox MUST cause the
// server to return HIGHESTMODSEQ (Section 3.1.2.1) for the currently selected mailbox."
func (s *session) enableCondstore() {
	if s.condstore {
		return
	}
	s.condstore = true
	if s.sel != nil {
		s.untagged("OK [HIGHESTMODSEQ %d] highest MODSEQ", s.sel.modseq)
	}
}

// prefixSpace returns " "+s, or "" for an empty s.
func prefixSpace(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}
