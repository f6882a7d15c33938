package queue

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"posthorn/internal/store"
)

// policyServer serves an MTA-STS policy over HTTPS and returns a client that reaches it for
// any mta-sts.* name.
func policyServer(t *testing.T, policy string, fetches *atomic.Int32) *http.Client {
	t.Helper()
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" || !strings.HasPrefix(r.Host, "mta-sts.") {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(policy))
	}))
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().String()
	return &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
		// The test server's certificate is not for mta-sts.remote.example; the policy's own
		// HTTPS check is not what this test is about.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
}

func TestMTASTSEnforceWithBadCertificateDefers(t *testing.T) {
	port := loopbackPort(t)
	zone := remoteZone()
	zone["_mta-sts.remote.example."] = []string{`_mta-sts.remote.example. 300 IN TXT "v=STSv1; id=20260101"`}
	h := newHarness(t, port, zone)
	var fetches atomic.Int32
	h.sched.HTTPClient = policyServer(t, "version: STSv1\nmode: enforce\nmx: mx.remote.example\nmax_age: 86400\n", &fetches)
	// The sink's certificate is self-signed for another name: fine for opportunistic TLS,
	// not for a host under an enforced policy.
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.enqueue("alice@example.org", "sts", store.Outbound{Recipient: "bob@remote.example"})
	h.start()
	h.waitFor("two failed attempts", func() bool {
		all, _ := h.store.ListQueue(context.Background())
		return len(all) == 1 && all[0].Attempts >= 2
	})
	if n := len(sink.transactions()); n != 0 {
		t.Fatalf("%d transactions to a host failing its MTA-STS policy", n)
	}
	q, _ := h.store.ListQueue(context.Background())
	if !strings.Contains(strings.ToLower(q[0].LastError), "tls") && !strings.Contains(q[0].LastError, "certificate") {
		t.Errorf("last error %q does not say TLS failed", q[0].LastError)
	}
	if len(h.inbox(h.env.Alice)) != 0 {
		t.Error("a deferral produced a failure notice")
	}
	// The policy was fetched once and cached under its id.
	if _, id, _, err := h.store.MTASTSPolicy(context.Background(), "remote.example"); err != nil || id != "20260101" {
		t.Errorf("cached policy id %q, %v", id, err)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("policy fetched %d times, want 1 (then cached)", n)
	}
}

func TestMTASTSTestingModeDelivers(t *testing.T) {
	port := loopbackPort(t)
	zone := remoteZone()
	zone["_mta-sts.remote.example."] = []string{`_mta-sts.remote.example. 300 IN TXT "v=STSv1; id=1"`}
	h := newHarness(t, port, zone)
	var fetches atomic.Int32
	h.sched.HTTPClient = policyServer(t, "version: STSv1\nmode: testing\nmx: mx.remote.example\nmax_age: 86400\n", &fetches)
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.enqueue("alice@example.org", "sts testing", store.Outbound{Recipient: "bob@remote.example"})
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	if sink.received()["bob@remote.example"] != 1 {
		t.Error("not delivered under a testing policy")
	}
}

func TestRequireTLSWithoutPolicyFails(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.enqueue("alice@example.org", "requiretls", store.Outbound{Recipient: "bob@remote.example", RequireTLS: true})
	h.start()
	h.waitFor("the notice", func() bool { return len(h.inbox(h.env.Alice)) == 1 })
	r := parseDSN(t, h.inbox(h.env.Alice)[0])
	if got := r.recipients[0].Get("Status"); got != "5.7.30" {
		t.Errorf("Status %q, want 5.7.30", got)
	}
	if n := len(sink.transactions()); n != 0 {
		t.Errorf("REQUIRETLS message sent to an unauthenticated host (%d transactions)", n)
	}
}
