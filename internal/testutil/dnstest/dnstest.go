// Package dnstest runs a real DNS server on loopback for tests, answering from a table of
// records written in zone-file syntax, so that code under test resolves through the same
// internal/dns.New path as in production.
//
//	srv := dnstest.Start(t, map[string][]string{
//		"example.org.": {"example.org. 300 IN MX 10 mx.example.org.", `example.org. 300 IN TXT "v=spf1 -all"`},
//	})
//	resolver := dns.New(srv.Addr)
//
// Names not in the table get NXDOMAIN; a name with records but none of the asked type gets an
// empty NOERROR answer. SetFailure makes a name answer SERVFAIL or REFUSED, or not answer at all.
//
// The server does not sign anything, but it can play a validating resolver: the answers for a
// name given to SetSecure carry the Authenticated Data bit (RFC 4035 §3.2.3) when the query
// asked for DNSSEC (the DO or AD bit, RFC 6840 §5.7), as a resolver that validated a signed zone
// would set it. Every other answer has AD clear, as for an unsigned zone.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	mdns "github.com/miekg/dns"
)

// Failure is how a name fails on purpose.
type Failure int

const (
	// ServFail answers SERVFAIL.
	ServFail Failure = iota + 1
	// Timeout never answers.
	Timeout
	// Refused answers REFUSED, as a resolver that will not look up a type does.
	Refused
)

// Server is a running test DNS server. Addr is "127.0.0.1:port", for UDP and TCP alike.
type Server struct {
	Addr string

	mu       sync.Mutex
	records  map[string][]mdns.RR // by lower-case FQDN
	failures map[string]Failure
	secure   map[string]bool
}

// Start serves zone (owner name -> records in zone-file syntax) until the test ends.
func Start(t testing.TB, zone map[string][]string) *Server {
	t.Helper()
	s := &Server{records: map[string][]mdns.RR{}, failures: map[string]Failure{}, secure: map[string]bool{}}
	for _, rrs := range zone {
		for _, text := range rrs {
			s.Add(t, text)
		}
	}
	pc, ln, err := listenUDPAndTCP()
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = pc.LocalAddr().String()
	udp := &mdns.Server{PacketConn: pc, Handler: s}
	tcp := &mdns.Server{Listener: ln, Handler: s}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	t.Cleanup(func() {
		udp.Shutdown()
		tcp.Shutdown()
	})
	return s
}

// listenUDPAndTCP listens on one loopback port for UDP and TCP. The port is free for UDP, but
// TCP may have it in use (a connection's local port), so a few ports are tried.
func listenUDPAndTCP() (net.PacketConn, net.Listener, error) {
	var err error
	for range 20 {
		var pc net.PacketConn
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			return nil, nil, err
		}
		var ln net.Listener
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			return pc, ln, nil
		}
		pc.Close()
	}
	return nil, nil, err
}

// Add adds one record in zone-file syntax, e.g. `example.org. 300 IN TXT "v=spf1 -all"`.
func (s *Server) Add(t testing.TB, text string) {
	t.Helper()
	rr, err := mdns.NewRR(text)
	if err != nil {
		t.Fatalf("dnstest: record %q: %v", text, err)
	}
	if rr == nil {
		return
	}
	name := strings.ToLower(rr.Header().Name)
	s.mu.Lock()
	s.records[name] = append(s.records[name], rr)
	s.mu.Unlock()
}

// SetFailure makes every query for name (an FQDN) fail as f.
func (s *Server) SetFailure(name string, f Failure) {
	s.mu.Lock()
	s.failures[strings.ToLower(mdns.Fqdn(name))] = f
	s.mu.Unlock()
}

// SetSecure makes the answers for each name (an FQDN) authenticated, records or their absence.
func (s *Server) SetSecure(names ...string) {
	s.mu.Lock()
	for _, name := range names {
		s.secure[strings.ToLower(mdns.Fqdn(name))] = true
	}
	s.mu.Unlock()
}

// ServeDNS implements mdns.Handler.
func (s *Server) ServeDNS(w mdns.ResponseWriter, req *mdns.Msg) {
	if len(req.Question) != 1 {
		m := new(mdns.Msg)
		m.SetRcode(req, mdns.RcodeFormatError)
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(q.Name)
	s.mu.Lock()
	failure := s.failures[name]
	rrs, exists := s.records[name]
	secure := s.secure[name]
	var answer []mdns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == q.Qtype || (rr.Header().Rrtype == mdns.TypeCNAME && q.Qtype != mdns.TypeCNAME) {
			answer = append(answer, mdns.Copy(rr))
		}
	}
	s.mu.Unlock()

	m := new(mdns.Msg)
	m.SetReply(req)
	m.Authoritative = true
	switch {
	case failure == Timeout:
		return
	case failure == ServFail:
		m.Rcode = mdns.RcodeServerFailure
	case failure == Refused:
		m.Rcode = mdns.RcodeRefused
	case !exists:
		m.Rcode = mdns.RcodeNameError
	default:
		m.Answer = answer
	}
	if failure == 0 && secure && (req.AuthenticatedData || (req.IsEdns0() != nil && req.IsEdns0().Do())) {
		m.AuthenticatedData = true
	}
	if _, udp := w.RemoteAddr().(*net.UDPAddr); udp {
		m.Truncate(mdns.MinMsgSize)
		if req.IsEdns0() != nil {
			m.Truncate(int(req.IsEdns0().UDPSize()))
		}
	}
	w.WriteMsg(m)
}
