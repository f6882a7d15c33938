package imapserver

// hierarchyDelimiter separates the levels of mailbox names, as in the store.
const hierarchyDelimiter = '/'

// cmdNamespace: NAMESPACE (RFC 9051 §6.3.10, RFC 2342): one personal namespace with an empty
// prefix, no other users' or shared namespaces.
func (s *session) cmdNamespace(c *command) error {
	s.untagged(`NAMESPACE (("" "/")) NIL NIL`)
	return nil
}
