package test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCLIAudience: lists, subscribers, a CSV import that reports its bad rows and imports the
// rest, the export, and the suppression list, each mistake one clear error line.
func TestCLIAudience(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "")
	people := filepath.Join(s.Dir, "people.csv")
	csv := "email,name,city\n" +
		"ann@example.org,Ann,Oslo\n" +
		"bad-address,Bad,Rome\n" +
		"ann@example.org,Ann,Oslo\n" +
		"gone@example.org,Gone,Paris\n" +
		"\"eve@example.org\",\"Eve\r\nBcc: victim@example.org\",Lyon\n" +
		"bob@example.org,Bob,Bern\n"
	if err := os.WriteFile(people, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	bounced := filepath.Join(s.Dir, "bounced.txt")
	if err := os.WriteFile(bounced, []byte("# from the old system\nold1@example.org\nnope\nOLD2@example.org\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	script := `
$ list create news --description Monthly
created list news (single opt-in)
$ list create news
posthorn: list news already exists
[exit 1]
$ list create alerts --double-opt-in
created list alerts (double opt-in)
$ list create bad --opt-in triple
posthorn: unknown flag: --opt-in
[exit 1]
$ suppression add Gone@Example.org --reason hard_bounce
suppressed gone@example.org (hard_bounce)
$ suppression add x@example.org --reason bogus
posthorn: reason "bogus": want manual, hard_bounce, soft_bounces, complaint or unsubscribe
[exit 1]
$ subscriber import PEOPLE
posthorn: posthorn subscriber import: want --list
[exit 1]
$ subscriber import PEOPLE --list nope
posthorn: unknown list nope
[exit 1]
$ subscriber import PEOPLE --list news --consent signed-up-at-the-fair
line 3: bad-address: bad address (invalid address "bad-address": want local@domain)
line 4: ann@example.org: duplicate (same address as line 2)
line 6: eve@example.org: bad row (name "Eve\nBcc: victim@example.org" has a control character (U+000A))
line 5: gone@example.org: suppressed (hard_bounce)
imported 2 of 6 rows into news, 4 rejected
$ subscriber add carol@example.org --list alerts --name Carol --attr city=Linz --attr plan=gold
subscribed carol@example.org to alerts
$ subscriber add carol@example.org --list alerts --attr first-name=Carol
posthorn: attribute "first-name": want an identifier (letters, digits and _, not starting with a digit)
[exit 1]
$ subscriber add not-an-address --list alerts
posthorn: invalid address "not-an-address": want local@domain
[exit 1]
$ list list
alerts (double opt-in) 0 confirmed, 1 unconfirmed, 0 unsubscribed
news (single opt-in: Monthly) 2 confirmed, 0 unconfirmed, 0 unsubscribed
$ subscriber list --list news
ann@example.org confirmed "Ann" {"city":"Oslo"}
bob@example.org confirmed "Bob" {"city":"Bern"}
$ subscriber export --list news
email,name,city
ann@example.org,Ann,Oslo
bob@example.org,Bob,Bern
$ subscriber remove bob@example.org --list news
unsubscribed bob@example.org from news
$ subscriber remove bob@example.org --list alerts
posthorn: bob@example.org is not subscribed to alerts
[exit 1]
$ subscriber export --list news
email,name,city
ann@example.org,Ann,Oslo
$ subscriber remove carol@example.org
deleted subscriber carol@example.org
$ subscriber remove carol@example.org
posthorn: unknown subscriber carol@example.org
[exit 1]
$ subscriber list
ann@example.org "Ann" {"city":"Oslo"}
bob@example.org "Bob" {"city":"Bern"}
$ suppression import BOUNCED --reason complaint
line 3: nope: bad address (invalid address "nope": want local@domain)
suppressed 2 of 3 addresses, 1 rejected
$ suppression remove old1@example.org
removed suppression of old1@example.org
$ suppression remove old1@example.org
posthorn: old1@example.org is not suppressed
[exit 1]
$ list delete alerts
deleted list alerts
$ list delete alerts
posthorn: unknown list alerts
[exit 1]
`
	script = strings.NewReplacer("PEOPLE", people, "BOUNCED", bounced).Replace(script)
	runTranscript(t, s, script)

	// The ledger with reasons, sources and times.
	out := s.MustCLI("", "suppression", "list")
	want := regexp.MustCompile(`^gone@example\.org hard_bounce \(cli\) since \d{4}-\d\d-\d\dT[0-9:]+Z, never expires
old2@example\.org complaint \(import\) since \S+, never expires
$`)
	if !want.MatchString(out) {
		t.Errorf("suppression list:\n%s", out)
	}
	s.MustCLI("", "suppression", "add", "later@example.org", "--expires", "24h")
	if out := s.MustCLI("", "suppression", "list"); !regexp.MustCompile(`later@example\.org manual \(cli\) since \S+, expires \S+Z`).MatchString(out) {
		t.Errorf("suppression list with an expiry:\n%s", out)
	}
}
