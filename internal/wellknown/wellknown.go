// Package wellknown writes what clients and other servers fetch to set themselves up for a
// domain: Thunderbird's autoconfig file (clientConfig 1.1), Outlook's POX autodiscover answer,
// Apple's configuration profile of one account (mobileconfig.go) and the MTA-STS policy
// (RFC 8461). It is pure: the caller says which services are offered
// (Services, from the configured listeners) and serves the bytes.
//
// Clients are pointed at implicit TLS first (RFC 8314 §3: IMAPS, POP3S, submissions), then at
// STARTTLS; a listener that is not configured is not offered. The user name is always the
// whole address, as posthorn's logins are.
//
// The MTA-STS policy's id is derived from the policy text, so it changes exactly when the
// policy does, and `posthorn domain dns` prints the same id that the web listener serves.
package wellknown

import (
	"net"
	"strconv"
)

// Service is one listener clients may use: its port, and whether TLS starts at once
// (implicit TLS) or by STARTTLS/STLS. Port 0 means the service is not offered.
type Service struct {
	Port     int
	Implicit bool
}

// Services are the client-facing listeners of one server, reached at Hostname.
type Services struct {
	Hostname    string
	IMAPS, IMAP Service
	POP3S, POP3 Service
	// Submissions (implicit TLS, RFC 8314) and Submission (STARTTLS, RFC 6409).
	Submissions, Submission Service
}

// ServiceOf makes a Service of a listen address "host:port" ("" or malformed: not offered).
func ServiceOf(listen string, implicit bool) Service {
	_, p, err := net.SplitHostPort(listen)
	if listen == "" || err != nil {
		return Service{}
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return Service{}
	}
	return Service{Port: port, Implicit: implicit}
}

// incoming are the offered receiving services, preferred first, with their protocol name.
func (s Services) incoming() []offered {
	return offer([]offered{{"imap", s.IMAPS}, {"imap", s.IMAP}, {"pop3", s.POP3S}, {"pop3", s.POP3}})
}

// outgoing are the offered submission services, preferred first.
func (s Services) outgoing() []offered {
	return offer([]offered{{"smtp", s.Submissions}, {"smtp", s.Submission}})
}

type offered struct {
	protocol string
	Service
}

func offer(all []offered) []offered {
	var out []offered
	for _, o := range all {
		if o.Port != 0 {
			out = append(out, o)
		}
	}
	return out
}
