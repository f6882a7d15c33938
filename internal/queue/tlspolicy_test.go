package queue

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"posthorn/internal/dns"
	"posthorn/internal/store"
	"posthorn/internal/testutil/dnstest"
)

// spkiSHA256 is the DANE-EE SPKI SHA2-256 (3 1 1) association of the TLS config's certificate.
func spkiSHA256(t *testing.T, cfg *tls.Config) []byte {
	t.Helper()
	cert, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(cert.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(leaf.RawSubjectPublicKeyInfo)
	return sum[:]
}

// TestDANE runs the scheduler against the test DNS server playing a validating resolver. DANE
// applies only to a host whose MX and address answers were both authenticated (RFC 7672 §2.2):
// then authenticated TLSA records that match the host's certificate make its TLS mandatory and
// authenticated (a REQUIRETLS message goes), records that do not match defer the message
// instead of falling back to plain text, and a failed TLSA lookup defers it. For any other host
// TLSA plays no part: records are ignored and a resolver that refuses or fails TLSA queries
// delays nothing.
func TestDANE(t *testing.T) {
	for _, tc := range []struct {
		name       string
		secure     []string // names whose answers are authenticated
		tlsa       string   // "match", "mismatch", or "" for none
		failure    dnstest.Failure
		requireTLS bool
		want       string // "delivered" or "deferred"
	}{
		{"matching", []string{"remote.example", "mx.remote.example", "tlsa"}, "match", 0, true, "delivered"},
		{"mismatching", []string{"remote.example", "mx.remote.example", "tlsa"}, "mismatch", 0, false, "deferred"},
		{"secure host, TLSA SERVFAIL", []string{"remote.example", "mx.remote.example"}, "", dnstest.ServFail, false, "deferred"},
		{"secure host, TLSA REFUSED", []string{"remote.example", "mx.remote.example"}, "", dnstest.Refused, false, "deferred"},
		{"unauthenticated TLSA", []string{"remote.example", "mx.remote.example"}, "mismatch", 0, false, "delivered"},
		{"insecure MX", []string{"mx.remote.example", "tlsa"}, "mismatch", 0, false, "delivered"},
		{"insecure address", []string{"remote.example", "tlsa"}, "mismatch", 0, false, "delivered"},
		{"insecure host, TLSA REFUSED", nil, "", dnstest.Refused, false, "delivered"},
		{"insecure host, TLSA SERVFAIL", nil, "", dnstest.ServFail, false, "delivered"},
		{"insecure host, TLSA timeout", nil, "", dnstest.Timeout, false, "delivered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port := loopbackPort(t)
			h := newHarness(t, port, remoteZone())
			sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
			tlsaName := "_" + strconv.Itoa(port) + "._tcp.mx.remote.example."
			if tc.tlsa != "" {
				assoc := spkiSHA256(t, h.env.TLSConfig)
				if tc.tlsa == "mismatch" {
					assoc = make([]byte, len(assoc))
				}
				h.dns.Add(t, tlsaName+" 300 IN TLSA 3 1 1 "+hex.EncodeToString(assoc))
			}
			if tc.failure != 0 {
				h.dns.SetFailure(tlsaName, tc.failure)
			}
			for _, name := range tc.secure {
				if name == "tlsa" {
					name = tlsaName
				}
				h.dns.SetSecure(name)
			}
			h.sched.Secure = &dns.Validating{Server: h.dns.Addr, Timeout: 2 * time.Second}
			// REQUIRETLS only goes where DANE authenticated the host.
			h.enqueue("alice@example.org", "dane", store.Outbound{Recipient: "bob@remote.example", RequireTLS: tc.requireTLS})
			h.start()
			if tc.want == "delivered" {
				h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
				if txns := sink.transactions(); len(txns) != 1 || !txns[0].tls {
					t.Errorf("transactions %+v, want one over TLS", txns)
				}
				if inbox := h.inbox(h.env.Alice); len(inbox) != 0 {
					t.Errorf("the sender got %d notices: %q", len(inbox), inbox)
				}
				return
			}
			h.waitFor("a failed attempt", func() bool {
				all, _ := h.store.ListQueue(context.Background())
				return len(all) == 1 && all[0].Attempts >= 1
			})
			if n := len(sink.transactions()); n != 0 {
				t.Errorf("%d transactions to a host whose DANE check did not pass", n)
			}
		})
	}
}

// authSink is a sink that requires AUTH PLAIN with one user's credentials.
type authSink struct{ *sink }

func (a authSink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s, err := a.sink.NewSession(c)
	return &authSession{sinkSession: s.(*sinkSession)}, err
}

type authSession struct {
	*sinkSession
	user string
}

func (s *authSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "relay-user" || pass != "relay-secret" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *authSession) Mail(from string, opts *smtp.MailOptions) error {
	if s.user == "" {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "authentication required"}
	}
	return s.sinkSession.Mail(from, opts)
}

// TestSmarthost: with a smarthost every message goes there, whatever the recipient's domain
// (no MX lookup), over verified STARTTLS and AUTH PLAIN.
func TestSmarthost(t *testing.T) {
	h := newHarness(t, 1, map[string][]string{}) // no DNS records at all
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	relay := &sink{Addr: l.Addr().String(), seen: map[string]int{}, ids: map[*smtp.Conn]int{}}
	srv := smtp.NewServer(authSink{relay})
	srv.Domain = "mx.example.org"
	srv.TLSConfig = h.env.TLSConfig
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	// The relay's certificate is for mx.example.org: name it so, trust it, and dial loopback.
	cert, _ := h.env.TLSConfig.GetCertificate(&tls.ClientHelloInfo{})
	leaf, _ := x509.ParseCertificate(cert.Certificate[0])
	roots := x509.NewCertPool()
	roots.AddCert(leaf)
	_, port, _ := net.SplitHostPort(relay.Addr)
	h.sched.RootCAs = roots
	h.sched.Smarthost = Smarthost{Addr: net.JoinHostPort("mx.example.org", port), Username: "relay-user", Password: "relay-secret"}
	h.sched.Dial = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, relay.Addr)
	}
	h.enqueue("alice@example.org", "relayed", store.Outbound{Recipient: "x@one.example"}, store.Outbound{Recipient: "y@two.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	got := relay.received()
	if got["x@one.example"] != 1 || got["y@two.example"] != 1 {
		t.Errorf("relay received %v", got)
	}
	if txns := relay.transactions(); len(txns) != 1 || !txns[0].tls {
		t.Errorf("transactions %+v: want one, over TLS, with both recipients", txns)
	}
}

// TestRatePerDestination spaces transactions to one destination.
func TestRatePerDestination(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	startSink(t, at("127.0.0.1", port), nil, nil)
	h.sched.RatePerDestination = 20
	for i := range 6 {
		h.enqueue("alice@example.org", "rate", store.Outbound{Recipient: "r" + string(rune('a'+i)) + "@remote.example"})
	}
	start := time.Now()
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	// Six transactions at 20 per second: the last starts 250 ms after the first.
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Errorf("6 messages at 20/s took %v", d)
	}
}
