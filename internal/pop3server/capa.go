package pop3server

// capabilities returns the CAPA list (RFC 2449 §5) for the session. Only what works is
// advertised, each with the RFC that defines it. RFC 2449 §5 wants what the AUTHORIZATION
// state announces announced in TRANSACTION too: USER and SASL stay, and STLS is listed
// whenever TLS is available and not in use, though it is valid in AUTHORIZATION only.
func (s *session) capabilities() []string {
	caps := []string{
		"TOP",  // RFC 2449 §6.1
		"UIDL", // RFC 2449 §6.2
	}
	if s.plaintextAuthAllowed() {
		caps = append(caps,
			"USER",                 // RFC 2449 §6.3
			"SASL "+saslMechanisms, // RFC 2449 §6.4, RFC 5034
		)
	}
	caps = append(caps,
		"RESP-CODES",     // RFC 2449 §6.5
		"AUTH-RESP-CODE", // RFC 3206 §6
		"PIPELINING",     // RFC 2449 §6.6
	)
	if s.server.TLSConfig != nil && !s.tls {
		caps = append(caps, "STLS") // RFC 2595 §4
	}
	return append(caps, "IMPLEMENTATION posthorn") // RFC 2449 §6.9
}

// cmdCapa: CAPA (RFC 2449 §5), in both states.
func (s *session) cmdCapa(args []string) error {
	s.ok("capability list follows")
	for _, c := range s.capabilities() {
		s.bw.WriteString(c + "\r\n")
	}
	s.bw.WriteString(".\r\n")
	return nil
}

// cmdNoop: NOOP (RFC 1939 §5).
func (s *session) cmdNoop(args []string) error {
	s.ok("")
	return nil
}

// cmdQuit: QUIT (RFC 1939 §4 in the AUTHORIZATION state, §6 in TRANSACTION, where the UPDATE
// state removes the messages marked as deleted).
func (s *session) cmdQuit(args []string) error {
	if s.state == stateTransaction {
		return s.update()
	}
	s.ok("%s posthorn POP3 signing off", s.server.Hostname)
	return errQuit
}
