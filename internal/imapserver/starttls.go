package imapserver

// cmdStartTLS: STARTTLS (RFC 9051 §6.2.1). The tagged OK goes in clear, then the handshake;
// the capabilities change, and the client asks for them again.
func (s *session) cmdStartTLS(c *command) error {
	if s.server.TLSConfig == nil || s.tls {
		return badf("STARTTLS not available")
	}
	s.writeStatus(c, &response{status: "OK", text: "begin TLS negotiation now"})
	if err := s.bw.Flush(); err != nil {
		return &connError{err}
	}
	if err := s.startTLS(); err != nil {
		return &connError{err}
	}
	return errHandled
}
