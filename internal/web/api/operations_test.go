package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	mdns "github.com/miekg/dns"

	"posthorn/internal/dns"
	"posthorn/internal/filter/spam"
	"posthorn/internal/testutil/dnstest"
)

// TestWebAdminRoute: PUT /api/v1/users/{address}/admin grants and revokes the web UI's admin
// pages as `posthorn user admin` does (admin.WebAdmins sees it), and the user shows it.
func TestWebAdminRoute(t *testing.T) {
	e := newAPIEnv(t)
	var u userView
	e.decode(e.call("PUT", "/api/v1/users/Alice@example.org/admin", map[string]any{"admin": true}, http.StatusOK), &u)
	if u.Address != "alice@example.org" || !u.Admin {
		t.Fatalf("user = %+v", u)
	}
	if admins, err := e.ops.WebAdmins(t.Context()); err != nil || !admins[e.Alice.ID] || admins[e.Bob.ID] {
		t.Errorf("web admins = %v, %v", admins, err)
	}
	var list struct{ Users []userView }
	e.decode(e.call("GET", "/api/v1/users", nil, http.StatusOK), &list)
	if len(list.Users) != 2 || !list.Users[0].Admin || list.Users[1].Admin {
		t.Errorf("users = %+v", list.Users)
	}
	e.decode(e.call("PUT", "/api/v1/users/alice@example.org/admin", map[string]any{"admin": false}, http.StatusOK), &u)
	if u.Admin {
		t.Errorf("revoked = %+v", u)
	}
	if admins, err := e.ops.WebAdmins(t.Context()); err != nil || admins[e.Alice.ID] {
		t.Errorf("web admins after revoking = %v, %v", admins, err)
	}
	put := func(path, body string) response {
		return e.do("PUT", path, e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("missing", put("/api/v1/users/alice@example.org/admin", `{}`), http.StatusBadRequest, "invalid", "admin")
	e.wantError("not a bool", put("/api/v1/users/alice@example.org/admin", `{"admin":"on"}`), http.StatusBadRequest, "invalid", "admin")
	e.wantError("unknown", put("/api/v1/users/zed@example.org/admin", `{"admin":true}`), http.StatusNotFound, "not_found", "address")
	e.wantError("account token", e.do("PUT", "/api/v1/users/alice@example.org/admin", e.account, "application/json",
		strings.NewReader(`{"admin":true}`)), http.StatusForbidden, codeForbidden, "")
}

// TestDNSCheckRoute: GET /api/v1/domains/{name}/dns-check looks up the domain's records
// through the resolver and says which are published, as `domain dns --check` does; once the
// zone holds every record GET /api/v1/domains/{name} lists, all are.
func TestDNSCheckRoute(t *testing.T) {
	e := newAPIEnv(t)
	e.wantError("no resolver", e.do("GET", "/api/v1/domains/example.org/dns-check", e.admin, "", nil),
		http.StatusNotImplemented, "unsupported", "")
	srv := dnstest.Start(t, map[string][]string{
		"example.org.": {"example.org. 300 IN MX 10 mx.example.org.", `example.org. 300 IN TXT "v=spf1 a -all"`},
	})
	e.ops.Resolver = dns.New(srv.Addr)
	type report struct {
		Domain    string
		Published bool
		Records   []dnsCheckView
	}
	var rep report
	e.decode(e.call("GET", "/api/v1/domains/example.org/dns-check", nil, http.StatusOK), &rep)
	status := map[string]dnsCheckView{}
	for _, c := range rep.Records {
		status[c.Record.Type+" "+c.Record.Name] = c
	}
	if rep.Domain != "example.org" || rep.Published || status["MX example.org."].Status != "published" ||
		status["TXT example.org."].Status != "different" || strings.Join(status["TXT example.org."].Found, " ") != `"v=spf1 a -all"` ||
		status["TXT _dmarc.example.org."].Status != "missing" {
		t.Fatalf("check = %+v", rep)
	}
	e.wantError("unknown", e.do("GET", "/api/v1/domains/example.net/dns-check", e.admin, "", nil), http.StatusNotFound, "not_found", "domain")
	e.wantError("bad name", e.do("GET", "/api/v1/domains/not_a_domain!/dns-check", e.admin, "", nil), http.StatusBadRequest, "invalid", "domain")

	// Publish what the API says to publish.
	var d domainDetailView
	e.decode(e.call("GET", "/api/v1/domains/example.org", nil, http.StatusOK), &d)
	srv = dnstest.Start(t, nil)
	var zone strings.Builder
	for _, rec := range d.DNSRecords {
		fmt.Fprintf(&zone, "%s %d IN %s %s\n", rec.Name, rec.TTL, rec.Type, rec.Value)
	}
	zp := mdns.NewZoneParser(strings.NewReader(zone.String()), "", "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		srv.Add(t, rr.String())
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	e.ops.Resolver = dns.New(srv.Addr)
	rep = report{}
	e.decode(e.call("GET", "/api/v1/domains/example.org/dns-check", nil, http.StatusOK), &rep)
	if !rep.Published || len(rep.Records) != len(d.DNSRecords) {
		t.Errorf("check of the published zone = %+v", rep)
	}
	e.wantError("account token", e.do("GET", "/api/v1/domains/example.org/dns-check", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}

// TestSpamExplainRoute: POST /api/v1/spam/explain scores the message of the body as `spam
// explain` does, for the global model or an account's; bad input is refused by field, a
// message over the bound is 413.
func TestSpamExplainRoute(t *testing.T) {
	e := newAPIEnv(t)
	e.ops.Spam = spam.Config{JunkThreshold: 5}
	msg := "From: x@example.net\r\nTo: alice@example.org\r\nSubject: test\r\n\r\n" +
		"XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X\r\n"
	explain := func(query, ctype, body string) response {
		return e.do("POST", "/api/v1/spam/explain"+query, e.admin, ctype, strings.NewReader(body))
	}
	for _, q := range []string{"", "?account=alice@example.org&tokens=3"} {
		r := explain(q, "message/rfc822", msg)
		var out struct {
			Score   float64
			Verdict string
			Reasons []spamReasonView
			Tokens  int
			Clues   []spamClueView
			Junk    float64 `json:"junk_threshold"`
		}
		e.decode(r, &out)
		if r.status != http.StatusOK || out.Verdict != "junk" || out.Score < 1000 || len(out.Reasons) == 0 ||
			out.Reasons[0].Name != "gtube" || out.Tokens == 0 || out.Junk != 5 || len(out.Clues) > 20 {
			t.Errorf("explain%s = %d %s", q, r.status, r.body)
		}
	}
	e.wantError("unknown account", explain("?account=zed@example.org", "message/rfc822", msg), http.StatusNotFound, "not_found", "account")
	e.wantError("bad tokens", explain("?tokens=many", "message/rfc822", msg), http.StatusBadRequest, "invalid", "tokens")
	e.wantError("empty", explain("", "message/rfc822", ""), http.StatusBadRequest, "invalid", "")
	e.wantError("not a message", explain("", "application/json", `{}`), http.StatusUnsupportedMediaType, codeMediaType, "")
	e.wantError("too large", explain("", "message/rfc822", msg+strings.Repeat("x", 64<<10)), http.StatusRequestEntityTooLarge, codeTooLarge, "")
	e.wantError("account token", e.do("POST", "/api/v1/spam/explain", e.account, "message/rfc822", strings.NewReader(msg)),
		http.StatusForbidden, codeForbidden, "")
}

// TestCheckAndRetentionRoutes: POST /api/v1/retention/run counts what the rules would remove
// (dry_run) and then removes it, as `retention run` does; GET /api/v1/check says ok, and
// names a message body that has gone missing, as `posthorn check` does.
func TestCheckAndRetentionRoutes(t *testing.T) {
	e := newAPIEnv(t)
	e.Deliver(e.Alice, "INBOX", "Subject: old\r\n\r\nold\r\n") // dated 2026-01-02, the rule is 30 days
	type retentionReport struct {
		DryRun    bool `json:"dry_run"`
		Messages  int64
		Mailboxes []retentionMailboxView
	}
	messages := func() int64 {
		q, err := e.ops.Quota(t.Context(), "alice@example.org")
		if err != nil {
			t.Fatal(err)
		}
		return q.Messages
	}
	var rep retentionReport
	e.decode(e.call("POST", "/api/v1/retention/run", map[string]any{"dry_run": true}, http.StatusOK), &rep)
	if !rep.DryRun || rep.Messages != 1 || len(rep.Mailboxes) != 1 || rep.Mailboxes[0] != (retentionMailboxView{
		Account: "alice@example.org", Mailbox: "INBOX", Days: 30, Messages: 1}) {
		t.Fatalf("dry run = %+v", rep)
	}
	if n := messages(); n != 1 {
		t.Fatalf("after the dry run alice has %d messages", n)
	}
	e.wantError("bad dry_run", e.do("POST", "/api/v1/retention/run", e.admin, "application/json", strings.NewReader(`{"dry_run":"yes"}`)),
		http.StatusBadRequest, "invalid", "dry_run")
	rep = retentionReport{}
	e.decode(e.call("POST", "/api/v1/retention/run", map[string]any{}, http.StatusOK), &rep)
	if rep.DryRun || rep.Messages != 1 {
		t.Fatalf("run = %+v", rep)
	}
	if n := messages(); n != 0 {
		t.Fatalf("after the run alice has %d messages", n)
	}

	type checkReport struct {
		OK       bool
		Problems []string
	}
	var ck checkReport
	e.decode(e.call("GET", "/api/v1/check", nil, http.StatusOK), &ck)
	if !ck.OK || ck.Problems == nil || len(ck.Problems) != 0 {
		t.Fatalf("check = %+v", ck)
	}
	e.Deliver(e.Bob, "INBOX", "Subject: new\r\n\r\nnew\r\n")
	var blobs []string
	if err := e.Store.BlobIDs(t.Context(), func(id string) error { blobs = append(blobs, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(blobs) != 1 {
		t.Fatalf("blobs = %v", blobs)
	}
	if err := e.Blobs.Remove(blobs[0]); err != nil {
		t.Fatal(err)
	}
	ck = checkReport{}
	e.decode(e.call("GET", "/api/v1/check", nil, http.StatusOK), &ck)
	if ck.OK || len(ck.Problems) != 1 || !strings.Contains(ck.Problems[0], blobs[0]) {
		t.Errorf("check with a body missing = %+v", ck)
	}
	e.wantError("account token", e.do("GET", "/api/v1/check", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
	e.wantError("account token", e.do("POST", "/api/v1/retention/run", e.account, "application/json", strings.NewReader(`{}`)),
		http.StatusForbidden, codeForbidden, "")
}
