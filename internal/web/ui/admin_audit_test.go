package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"posthorn/internal/audit"
)

var auditRow = regexp.MustCompile(`<tr><td>[^<]+</td><td>([a-z]+)</td><td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>`)

// auditRows are the rows of an audit page as "kind actor action target".
func auditRows(body string) []string {
	var rows []string
	for _, m := range auditRow.FindAllStringSubmatch(body, -1) {
		rows = append(rows, strings.Join(m[1:], " "))
	}
	return rows
}

// recordAudit appends an entry as actor.
func recordAudit(t *testing.T, u *testUI, actor audit.Actor, action, target string, details audit.Details) {
	t.Helper()
	log, err := u.ops.Audit()
	if err != nil {
		t.Fatal(err)
	}
	if err := log.Record(audit.WithActor(t.Context(), actor), action, target, details); err != nil {
		t.Fatal(err)
	}
}

func TestAdminAuditPage(t *testing.T) {
	u := newTestUI(t)
	// An action through the UI is recorded with the admin as its actor.
	resp, _ := u.post(t, u.Admin, "/admin/aliases", "/admin/aliases", url.Values{"alias": {"team@example.org"}, "targets": {userAddress}})
	wantStatus(t, "add alias", resp, http.StatusSeeOther)
	recordAudit(t, u, audit.Actor{Kind: audit.KindCLI, Name: "root"}, "domain.add", "new.example", audit.Details{"dkim": "s1"})
	recordAudit(t, u, audit.Actor{Kind: audit.KindAPI, Name: "token ci"}, "user.add", "x@example.org", nil)

	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?actor_kind=web", []string{"web " + adminAddress + " alias.add team@example.org"}},
		{"?actor=root", []string{"cli root domain.add new.example"}},
		{"?action=domain.", []string{"cli root domain.add new.example"}},
		{"?target=x@example.org&since=1h", []string{"api token ci user.add x@example.org"}},
		{"?until=1h", nil},
	} {
		resp, body := u.get(t, u.Admin, "/admin/audit"+tc.query)
		wantStatus(t, tc.query, resp, http.StatusOK)
		if got := auditRows(body); strings.Join(got, "|") != strings.Join(tc.want, "|") {
			t.Errorf("%s: rows %q, want %q", tc.query, got, tc.want)
		}
	}
	// Every entry (the accounts the test began with, the alias, the two recorded), oldest first.
	_, body := u.get(t, u.Admin, "/admin/audit")
	rows := auditRows(body)
	if len(rows) < 3 || rows[len(rows)-1] != "api token ci user.add x@example.org" || rows[len(rows)-2] != "cli root domain.add new.example" {
		t.Errorf("rows %q", rows)
	}
	wantContains(t, "details", body, `<td class="reply">{&#34;dkim&#34;:&#34;s1&#34;}</td>`)
	_, body = u.get(t, u.Admin, "/admin/audit?actor_kind=cli&action=domain.")
	wantContains(t, "filters kept", body, `<option value="cli" selected>cli</option>`, `value="domain."`,
		`href="/admin/audit/export?action=domain.&amp;actor_kind=cli" id="export"`)
}

// A page holds auditPageSize entries; its "next" link carries the filters and goes on after
// the page's last entry.
func TestAdminAuditPaging(t *testing.T) {
	u := newTestUI(t)
	for i := range auditPageSize + 5 {
		recordAudit(t, u, audit.Actor{Kind: audit.KindCLI, Name: "root"}, "queue.delete", fmt.Sprint(i), nil)
	}
	next := regexp.MustCompile(`href="([^"]+)" id="next"`)
	_, body := u.get(t, u.Admin, "/admin/audit?action=queue.delete")
	rows := auditRows(body)
	m := next.FindStringSubmatch(body)
	if len(rows) != auditPageSize || rows[0] != "cli root queue.delete 0" || m == nil {
		t.Fatalf("first page: %d rows from %q, next %v", len(rows), rows[0], m)
	}
	link := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.Contains(link, "action=queue.delete") || !strings.Contains(link, "after=") {
		t.Fatalf("next link %q", link)
	}
	_, body = u.get(t, u.Admin, link)
	rows = auditRows(body)
	if len(rows) != 5 || rows[0] != fmt.Sprintf("cli root queue.delete %d", auditPageSize) || next.MatchString(body) {
		t.Fatalf("second page: %q", rows)
	}
	wantContains(t, "second page", body, `href="/admin/audit?action=queue.delete" id="first"`)
}

func TestAdminAuditBadInput(t *testing.T) {
	u := newTestUI(t)
	for _, tc := range []struct {
		query, field, message string
	}{
		{"?actor_kind=robot", "actor_kind", "robot"},
		{"?since=soon", "since", `since &#34;soon&#34;: want an RFC 3339 time`},
		{"?until=later", "until", ""},
		{"?since=1h&until=2h", "until", "is not after since"},
		{"?after=-4", "after", `after &#34;-4&#34;: want the id of an entry`},
	} {
		for _, p := range []string{"/admin/audit", "/admin/audit/export"} {
			resp, body := u.get(t, u.Admin, p+tc.query)
			wantStatus(t, p+tc.query, resp, http.StatusBadRequest)
			wantContains(t, p+tc.query, body, `data-field="`+tc.field+`"`, tc.message, `id="audit-filter"`)
			if resp.Header.Get("Content-Disposition") != "" {
				t.Errorf("%s: a refused export is a download", p+tc.query)
			}
		}
	}
}

// The export is every entry the filters select, as JSON lines, downloaded.
func TestAdminAuditExport(t *testing.T) {
	u := newTestUI(t)
	for i := range 3 {
		recordAudit(t, u, audit.Actor{Kind: audit.KindAPI, Name: "token ci"}, "user.add", fmt.Sprintf("u%d@example.org", i), nil)
	}
	recordAudit(t, u, audit.Actor{Kind: audit.KindCLI, Name: "root"}, "domain.add", "new.example", nil)
	resp, err := u.Admin.Get(u.srv.URL + "/admin/audit/export?actor_kind=api&action=user.add")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	wantStatus(t, "export", resp, http.StatusOK)
	if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/jsonl; charset=utf-8" ||
		!strings.HasPrefix(cd, `attachment; filename="posthorn-audit-`) || !strings.HasSuffix(cd, `.jsonl"`) {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	var targets []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var e audit.Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		if e.ActorKind != "api" || e.Action != "user.add" || e.Time == "" {
			t.Errorf("entry %+v", e)
		}
		targets = append(targets, e.Target)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(targets, " ") != "u0@example.org u1@example.org u2@example.org" {
		t.Errorf("exported targets %q", targets)
	}
}

// An entry's target, actor and details are shown as text, never as markup.
func TestAdminAuditEscapes(t *testing.T) {
	u := newTestUI(t)
	recordAudit(t, u, audit.Actor{Kind: audit.KindAPI, Name: markupImg}, "alias.add", markupScript+markupImg,
		audit.Details{"targets": markupScript})
	for _, p := range []string{"/admin/audit", "/admin/audit?target=" + url.QueryEscape(markupScript+markupImg),
		"/admin/audit?actor=" + url.QueryEscape(markupImg) + "&since=soon"} {
		_, body := u.get(t, u.Admin, p)
		wantEscaped(t, p, body)
	}
	_, body := u.get(t, u.Admin, "/admin/audit")
	wantContains(t, "target", body, "<td>&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;</td>")
}
