package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLICampaign: templates and campaigns from the command line: a From off the local domains,
// a template that fails for one subscriber and a transition not allowed are each one clear
// line; a test send, a start, a pause, a resume, a schedule and a cancel say what they did.
func TestCLICampaign(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "[campaign]\npublic_url = \"https://news.example.org\"\n")
	write := func(name, content string) string {
		p := filepath.Join(s.Dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	html := write("june.html", `<p>Hello {{.Name}}, <a href="https://example.com/news">the news</a>.</p>`)
	text := write("june.txt", "Hello {{.Name}}\n")
	plan := write("plan.txt", "Your plan: {{attr \"plan\"}}\n")
	script := `
$ domain add example.org
added domain example.org
$ list create news
created list news (single opt-in)
$ subscriber add ann@remote.example --list news --name Ann --attr plan=gold
subscribed ann@remote.example to news
$ subscriber add bob@remote.example --list news --name Bob
subscribed bob@remote.example to news
$ template add monthly --subject Hello_{{.Name}} --html HTML --text TEXT
added template monthly
$ template add monthly --subject x --text TEXT
posthorn: template monthly already exists
[exit 1]
$ template add broken --subject {{.Name --text TEXT
posthorn: subject template line 1: unclosed action
[exit 1]
$ template list
monthly "Hello_{{.Name}}" (html 72 bytes, text 16 bytes)
$ template show monthly
Subject: Hello_{{.Name}}
--- html
<p>Hello {{.Name}}, <a href="https://example.com/news">the news</a>.</p>
--- text
Hello {{.Name}}
$ campaign create june --from news@elsewhere.example --list news --template monthly
posthorn: from news@elsewhere.example: elsewhere.example is not a local domain
[exit 1]
$ campaign create june --from news@example.org --list nope --template monthly
posthorn: unknown list nope
[exit 1]
$ campaign create june --from news@example.org --list news --template monthly --rate 600 --reply-to desk@example.org
created campaign 1 june (draft)
$ campaign create plans --from news@example.org --list news --subject Plan --text PLAN
created campaign 2 plans (draft)
$ campaign list
2 plans draft to news
1 june draft to news
$ campaign test 1 carol@remote.example
sent a test of campaign 1 to carol@remote.example
$ campaign start 2
posthorn: campaign 2 not started: subscriber bob@remote.example: text template line 1 field attr "plan": no attribute "plan"
[exit 1]
$ campaign pause 1
posthorn: campaign 1 is draft: want running
[exit 1]
$ campaign start 1
started campaign 1: 2 recipients
$ campaign pause 1
paused campaign 1
$ campaign resume 1
resumed campaign 1
$ campaign start 2 --at 2030-01-01T09:00:00Z
posthorn: campaign 2 not started: subscriber bob@remote.example: text template line 1 field attr "plan": no attribute "plan"
[exit 1]
$ campaign create later --from news@example.org --list news --template monthly --no-tracking
created campaign 3 later (draft)
$ campaign start 3 --at 2030-01-01T09:00:00Z
scheduled campaign 3 for 2030-01-01T09:00:00Z
$ campaign cancel 3
cancelled campaign 3
$ campaign cancel 3
posthorn: campaign 3 is cancelled: want draft, scheduled, running or paused
[exit 1]
$ campaign show 9
posthorn: unknown campaign 9
[exit 1]
$ campaign start x
posthorn: campaign id "x": want a number
[exit 1]
$ template remove monthly
removed template monthly
`
	script = strings.NewReplacer("HTML", html, "TEXT", text, "PLAN", plan).Replace(script)
	runTranscript(t, s, script)

	out := s.MustCLI("", "campaign", "show", "1")
	want := regexp.MustCompile(`^campaign 1 june: running, started \d{4}-\d\d-\d\dT[0-9:]+Z
from: news@example\.org
reply-to: desk@example\.org
lists: news
subject: Hello_\{\{\.Name\}\}
rate: 600 per minute, tracking: on, anonymous: off
recipients: 2 pending, 0 queued, 0 delivered, 0 deferred, 0 bounced, 0 skipped
$`)
	if !want.MatchString(out) {
		t.Errorf("campaign show:\n%s", out)
	}
	// The test send is in the queue; the campaign's own messages wait for the server.
	if out := s.MustCLI("", "queue", "list"); !strings.Contains(out, "<carol@remote.example>") || !strings.HasSuffix(out, "1 queued\n") {
		t.Errorf("queue list:\n%s", out)
	}
}
