package imapserver

import (
	"slices"
	"strings"

	"posthorn/internal/store"
)

// listArgs are the arguments of LIST (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, SPECIAL-USE
// RFC 6154, LIST-STATUS RFC 5819) and LSUB (RFC 3501 §6.3.9).
type listArgs struct {
	lsub      bool
	reference string
	patterns  []string

	// Selection options (RFC 5258 §3.1, RFC 6154 §5.1).
	selSubscribed, selRemote, selRecursive, selSpecialUse bool
	// Return options (RFC 5258 §3.2, RFC 6154 §5.2, RFC 5819).
	retSubscribed, retChildren, retSpecialUse bool
	retStatus                                 []string
	// extended is set when the command used any LIST-EXTENDED syntax (RFC 5258 §3: the
	// server then reports \NonExistent, CHILDINFO and so on).
	extended bool
}

// parseList: LIST [SP list-select-opts] SP mailbox SP mbox-or-pat [SP list-return-opts]
// (RFC 5258 §6).
func parseList(p *parser, c *command) error {
	a := &listArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.extended = true
		if err := parseListSelectOpts(p, a); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	var err error
	if a.reference, err = p.astring(); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.extended = true
		err := p.parenList(func() error {
			if len(a.patterns) >= 100 {
				return badf("too many patterns")
			}
			pat, err := p.listMailbox()
			a.patterns = append(a.patterns, pat)
			return err
		})
		if err != nil {
			return err
		}
		if len(a.patterns) == 0 {
			return badf("no mailbox pattern")
		}
	} else {
		pat, err := p.listMailbox()
		if err != nil {
			return err
		}
		a.patterns = []string{pat}
	}
	if p.consume(' ') {
		a.extended = true
		if !p.tryKeyword("RETURN") {
			return p.missing("RETURN")
		}
		if err := p.sp(); err != nil {
			return err
		}
		if err := parseListReturnOpts(p, a); err != nil {
			return err
		}
	}
	return nil
}

// parseListSelectOpts: "(" [list-select-opt *(SP list-select-opt)] ")". RECURSIVEMATCH alone
// is an error (RFC 5258 §3.1: it needs another selection option).
func parseListSelectOpts(p *parser, a *listArgs) error {
	err := p.parenList(func() error {
		opt, err := p.keyword()
		switch {
		case err != nil:
			return err
		case opt == "SUBSCRIBED":
			a.selSubscribed = true
		case opt == "REMOTE":
			a.selRemote = true
		case opt == "RECURSIVEMATCH":
			a.selRecursive = true
		case opt == "SPECIAL-USE":
			a.selSpecialUse = true
		default:
			return badf("unknown LIST selection option %s", opt)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if a.selRecursive && !a.selSubscribed && !a.selSpecialUse {
		return badf("RECURSIVEMATCH needs another selection option")
	}
	return nil
}

// parseListReturnOpts: "(" [return-option *(SP return-option)] ")".
func parseListReturnOpts(p *parser, a *listArgs) error {
	return p.parenList(func() error {
		opt, err := p.keyword()
		switch {
		case err != nil:
			return err
		case opt == "SUBSCRIBED":
			a.retSubscribed = true
		case opt == "CHILDREN":
			a.retChildren = true
		case opt == "SPECIAL-USE":
			a.retSpecialUse = true
		case opt == "STATUS":
			if err := p.sp(); err != nil {
				return err
			}
			a.retStatus, err = parseStatusItems(p)
			return err
		default:
			return badf("unknown LIST return option %s", opt)
		}
		return nil
	})
}

// parseLsub: LSUB SP mailbox SP list-mailbox.
func parseLsub(p *parser, c *command) error {
	a := &listArgs{lsub: true}
	c.args = a
	var err error
	if err = p.sp(); err != nil {
		return err
	}
	if a.reference, err = p.astring(); err != nil {
		return err
	}
	if err = p.sp(); err != nil {
		return err
	}
	pat, err := p.listMailbox()
	a.patterns = []string{pat}
	return err
}

// listEntry is a name LIST may report: an existing mailbox, or a name that only subscriptions
// or lower levels give (mb nil).
type listEntry struct {
	name       string
	mb         *store.Mailbox
	subscribed bool
}

// cmdList: LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), SPECIAL-USE (RFC 6154),
// CHILDREN (RFC 3348) and LIST-STATUS (RFC 5819); and LSUB (RFC 3501 §6.3.9).
func (s *session) cmdList(c *command) error {
	a := c.args.(*listArgs)
	if !a.lsub && len(a.patterns) == 1 && a.patterns[0] == "" {
		// RFC 9051 §6.3.9: an empty pattern asks for the hierarchy delimiter.
		s.untagged(`LIST (\Noselect) "/" ""`)
		return nil
	}
	reference, err := s.mailboxName(a.reference)
	if err != nil {
		return nil // no name matches a reference that is no valid name
	}
	var patterns []string
	for _, p := range a.patterns {
		if p, err := s.mailboxName(p); err == nil {
			patterns = append(patterns, reference+p)
		}
	}
	entries, err := s.listEntries()
	if err != nil {
		return err
	}
	subscribedOnly := a.lsub || a.selSubscribed
	for _, i := range inboxFirst(entries) {
		e := &entries[i]
		if !slices.ContainsFunc(patterns, func(p string) bool { return matchPattern(p, e.name) }) {
			continue
		}
		attrs, _ := s.listAttributes(e.name, e.mb, entries, e.subscribed)
		if !a.extended && !s.rev2 {
			// Without LIST-EXTENDED an IMAP4rev1 client knows no \NonExistent: a name that is
			// no mailbox is \Noselect (RFC 3501 §7.2.2). Never both: mbx-list-flags allows
			// one mbx-list-sflag (RFC 9051 §9), and \NonExistent implies \Noselect.
			for i := range attrs {
				if attrs[i] == `\NonExistent` {
					attrs[i] = `\Noselect`
				}
			}
		}
		switch {
		case a.lsub:
			if e.subscribed {
				s.writeLsubLine(e, e.mb == nil)
			} else if subscribedBelow(entries, e.name, patterns) {
				// RFC 3501 §6.3.9: "foo/bar" subscribed, "foo" not: LSUB with "%" returns foo,
				// flagged \Noselect.
				s.writeLsubLine(e, true)
			}
			continue
		case subscribedOnly && !e.subscribed:
			// RFC 5258 §3.5: RECURSIVEMATCH reports a name that is not subscribed with
			// CHILDINFO when a name below it is and the patterns do not match that one
			// (when they do, it is listed itself).
			if !a.selRecursive || !subscribedBelow(entries, e.name, patterns) {
				continue
			}
			attrs = slices.DeleteFunc(attrs, func(s string) bool { return s == `\Subscribed` })
			s.writeListLine(e.name, attrs, ` ("CHILDINFO" ("SUBSCRIBED"))`)
			continue
		case a.selSpecialUse && (e.mb == nil || e.mb.SpecialUse == ""):
			continue
		case !a.extended && e.mb == nil && !slices.Contains(attrs, `\HasChildren`):
			continue // a subscription to a missing mailbox: only LSUB and LIST (SUBSCRIBED) show it
		}
		if !a.retSubscribed && !a.selSubscribed {
			attrs = slices.DeleteFunc(attrs, func(s string) bool { return s == `\Subscribed` })
		}
		s.writeListLine(e.name, attrs, "")
		if len(a.retStatus) > 0 && e.mb != nil {
			if err := s.writeMailboxStatus(*e.mb, a.retStatus); err != nil {
				return err
			}
		}
	}
	return nil
}

// listEntries returns every name LIST may report, sorted: the account's mailboxes, subscribed
// names, and the missing superior levels of both.
func (s *session) listEntries() ([]listEntry, error) {
	st := s.server.Store
	mailboxes, err := st.ListMailboxes(s.ctx, s.account.ID)
	if err != nil {
		return nil, err
	}
	subs, err := st.ListSubscriptions(s.ctx, s.account.ID)
	if err != nil {
		return nil, err
	}
	byName := map[string]*listEntry{}
	add := func(name string) *listEntry {
		e := byName[name]
		if e == nil {
			e = &listEntry{name: name}
			byName[name] = e
		}
		return e
	}
	for i := range mailboxes {
		add(mailboxes[i].Name).mb = &mailboxes[i]
	}
	for _, name := range subs {
		add(normalizeInbox(name)).subscribed = true
	}
	for name := range byName {
		for i := 0; i < len(name); i++ {
			if name[i] == hierarchyDelimiter && i > 0 {
				add(name[:i])
			}
		}
	}
	entries := make([]listEntry, 0, len(byName))
	for _, e := range byName {
		entries = append(entries, *e)
	}
	slices.SortFunc(entries, func(a, b listEntry) int { return strings.Compare(a.name, b.name) })
	return entries, nil
}

// inboxFirst returns the indexes of entries in the order LIST reports them: INBOX first.
func inboxFirst(entries []listEntry) []int {
	order := make([]int, 0, len(entries))
	for i, e := range entries {
		if e.name == "INBOX" {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
	return order
}

// listAttributes returns the attributes of a name (RFC 9051 §7.3.1): \NonExistent for a name
// that is no mailbox, \HasChildren or \HasNoChildren, \Subscribed, and the special use.
// entries are all names, sorted; childSubscribed reports whether a name below this one is
// subscribed (for CHILDINFO, RFC 5258 §3.5).
func (s *session) listAttributes(name string, mb *store.Mailbox, entries []listEntry, subscribed bool) (attrs []string, childSubscribed bool) {
	if mb == nil {
		attrs = append(attrs, `\NonExistent`)
	}
	prefix := name + string(hierarchyDelimiter)
	i, _ := slices.BinarySearchFunc(entries, prefix, func(e listEntry, p string) int { return strings.Compare(e.name, p) })
	hasChildren := false
	for ; i < len(entries) && strings.HasPrefix(entries[i].name, prefix); i++ {
		hasChildren = true
		childSubscribed = childSubscribed || entries[i].subscribed
	}
	if hasChildren {
		attrs = append(attrs, `\HasChildren`)
	} else {
		attrs = append(attrs, `\HasNoChildren`)
	}
	if subscribed {
		attrs = append(attrs, `\Subscribed`)
	}
	if mb != nil && mb.SpecialUse != "" {
		attrs = append(attrs, mb.SpecialUse)
	}
	return attrs, childSubscribed
}

// writeListLine writes "* LIST (attrs) "/" name", with extended data after it.
func (s *session) writeListLine(name string, attrs []string, extended string) {
	s.bw.WriteString("* LIST (")
	s.bw.WriteString(strings.Join(attrs, " "))
	s.bw.WriteString(`) "/" `)
	s.writeMailbox(name)
	s.bw.WriteString(extended)
	s.bw.WriteString("\r\n")
}

// subscribedBelow reports whether a name below name is subscribed and matches none of the
// patterns. entries are sorted.
func subscribedBelow(entries []listEntry, name string, patterns []string) bool {
	prefix := name + string(hierarchyDelimiter)
	i, _ := slices.BinarySearchFunc(entries, prefix, func(e listEntry, p string) int { return strings.Compare(e.name, p) })
	for ; i < len(entries) && strings.HasPrefix(entries[i].name, prefix); i++ {
		e := &entries[i]
		if e.subscribed && !slices.ContainsFunc(patterns, func(p string) bool { return matchPattern(p, e.name) }) {
			return true
		}
	}
	return false
}

// writeLsubLine writes an LSUB response (RFC 3501 §7.2.3).
func (s *session) writeLsubLine(e *listEntry, noselect bool) {
	attrs := "()"
	if noselect {
		attrs = `(\Noselect)`
	}
	s.bw.WriteString("* LSUB " + attrs + ` "/" `)
	s.writeMailbox(e.name)
	s.bw.WriteString("\r\n")
}
