package imapserver

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
