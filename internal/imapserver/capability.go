package imapserver

import (
	"strconv"
	"strings"
)

// capabilities returns the CAPABILITY list for the session's state (RFC 9051 §7.2.2). Only
// what works is advertised, each with the RFC that defines it.
func (s *session) capabilities() string {
	caps := []string{
		"IMAP4rev2", // RFC 9051
		"IMAP4rev1", // RFC 3501
		"LITERAL+",  // RFC 7888
		"SASL-IR",   // RFC 4959
		"ENABLE",    // RFC 5161
		"ID",        // RFC 2971
		"IDLE",      // RFC 2177
	}
	if s.server.TLSConfig != nil && !s.tls && s.state == stateNotAuthenticated {
		caps = append(caps, "STARTTLS") // RFC 9051 §6.2.1
	}
	if s.state == stateNotAuthenticated {
		if s.plaintextAuthAllowed() {
			caps = append(caps,
				"AUTH=PLAIN",         // RFC 4616
				"AUTH=SCRAM-SHA-256", // RFC 7677
			)
		} else {
			caps = append(caps, "LOGINDISABLED") // RFC 9051 §6.2.3
		}
		return strings.Join(caps, " ")
	}
	caps = append(caps,
		"NAMESPACE",          // RFC 2342
		"UIDPLUS",            // RFC 4315
		"UNSELECT",           // RFC 3691
		"MOVE",               // RFC 6851
		"CHILDREN",           // RFC 3348
		"LIST-EXTENDED",      // RFC 5258
		"LIST-STATUS",        // RFC 5819
		"SPECIAL-USE",        // RFC 6154
		"CREATE-SPECIAL-USE", // RFC 6154 §3
		"ESEARCH",            // RFC 4731
		"SEARCHRES",          // RFC 5182
		"STATUS=SIZE",        // RFC 8438
		"BINARY",             // RFC 3516
		"APPENDLIMIT="+strconv.FormatInt(s.server.appendLimit(), 10), // RFC 7889
		"UTF8=ACCEPT",       // RFC 6855
		"CONDSTORE",         // RFC 7162
		"QRESYNC",           // RFC 7162 §3.2
		"QUOTA",             // RFC 9208 (and RFC 2087 before it)
		"QUOTA=RES-STORAGE", // RFC 9208 §3.1, §5.1
	)
	return strings.Join(caps, " ")
}

// plaintextAuthAllowed reports whether LOGIN and AUTHENTICATE PLAIN may be used now: over
// TLS, or on a loopback connection when the server allows it.
func (s *session) plaintextAuthAllowed() bool {
	return s.tls || s.server.AllowInsecureAuth && s.remote.IsLoopback()
}

// cmdCapability: RFC 9051 §6.1.1.
func (s *session) cmdCapability(c *command) error {
	s.untagged("CAPABILITY %s", s.capabilities())
	return nil
}

// cmdNoop: NOOP (RFC 9051 §6.1.2) and CHECK (RFC 3501 §6.4.1, which IMAP4rev2 folded into
// NOOP): nothing but the updates that execute sends after every command.
func (s *session) cmdNoop(c *command) error {
	return nil
}

// cmdLogout: RFC 9051 §6.1.3.
func (s *session) cmdLogout(c *command) error {
	s.untagged("BYE %s logging out", s.server.Hostname)
	s.writeStatus(c, &response{status: "OK", text: "LOGOUT completed"})
	_ = s.bw.Flush()
	return errLogout
}
