package imapserver

type idArgs struct{ params []string } // name, value pairs; value "" for NIL

// parseID: ID SP ("(" string SP nstring *(SP string SP nstring) ")" / NIL) (RFC 2971 §4).
func parseID(p *parser, c *command) error {
	a := &idArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	if p.tryKeyword("NIL") {
		return nil
	}
	return p.parenList(func() error {
		if len(a.params) >= 60 { // RFC 2971 §3.3: at most 30 pairs
			return badf("too many ID fields")
		}
		name, err := p.str()
		if err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		value, _, err := p.nstring()
		a.params = append(a.params, name, value)
		return err
	})
}

// cmdID: ID (RFC 2971). The client's fields are logged (they name the client program, which
// helps with support); the server answers with its name.
func (s *session) cmdID(c *command) error {
	params := c.args.(*idArgs).params
	if len(params) > 0 {
		attrs := make([]any, 0, len(params))
		for i := 0; i+1 < len(params); i += 2 {
			attrs = append(attrs, "id."+params[i], params[i+1])
		}
		s.logger.Debug("client id", attrs...)
	}
	s.untagged(`ID ("name" "posthorn")`)
	return nil
}
