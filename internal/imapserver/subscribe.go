package imapserver

// cmdSubscribe: SUBSCRIBE and UNSUBSCRIBE (RFC 9051 §6.3.7, §6.3.8). Any name may be
// subscribed, existing or not.
func (s *session) cmdSubscribe(c *command) error {
	name, err := s.mailboxName(c.args.(*mailboxArgs).mailbox)
	if err != nil {
		return err
	}
	return s.server.Store.SetSubscribed(s.ctx, s.account.ID, name, c.name == "SUBSCRIBE")
}
