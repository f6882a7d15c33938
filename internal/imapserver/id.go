package imapserver

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
