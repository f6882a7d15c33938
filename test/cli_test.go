package test

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"posthorn/internal/app"
	"posthorn/internal/auth"
	"posthorn/internal/config"
)

// The admin CLI tests are transcripts: "$ ARGS" runs `posthorn -c CONFIG ARGS` (with "<<< LINE"
// as its standard input), followed by what it prints, stdout then stderr, and "[exit N]" when
// it fails. Whatever the script says, a failing command must print exactly one line on stderr,
// starting with "posthorn: ", and nothing on stdout; a succeeding one nothing on stderr.

// TestCLIDirectory: domains, accounts and aliases, and one clear error line for every mistake.
// Removing an alias also removes the aliases left without a target (all@other.example).
func TestCLIDirectory(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "")
	runTranscript(t, s, `
$ domain list
$ domain add Example.ORG
added domain example.org
$ domain add example.org
posthorn: domain example.org already exists
[exit 1]
$ domain add other.example
added domain other.example
$ domain add bad_domain.example
posthorn: domain "bad_domain.example": domain label "bad_domain" has invalid character '_'
[exit 1]
$ domain list
example.org
other.example

$ user add alice@example.org --password-stdin <<< correct horse battery
added user alice@example.org
$ user add Bob@Example.org --password-stdin <<< correct horse battery
added user bob@example.org
$ user add alice@example.org --password-stdin <<< another password
posthorn: alice@example.org already exists (as an account or alias)
[exit 1]
$ user add carol@unknown.example --password-stdin <<< correct horse battery
posthorn: unknown domain unknown.example; add it first with: posthorn domain add unknown.example
[exit 1]
$ user add carol.example.org --password-stdin <<< correct horse battery
posthorn: invalid address "carol.example.org": want local@domain
[exit 1]
$ user add carol@example.org --password-stdin <<< short
posthorn: password must be at least 8 characters
[exit 1]
$ user add carol@example.org
posthorn: standard input is not a terminal; use --password-stdin
[exit 1]
$ user add carol@example.org --password-stdin
posthorn: --password-stdin: no password on standard input
[exit 1]
$ user list
alice@example.org
bob@example.org
$ user admin alice@example.org on
alice@example.org is now an admin of the web UI
$ user admin nobody@example.org on
posthorn: unknown user nobody@example.org
[exit 1]
$ user admin alice@example.org maybe
posthorn: want on or off, not "maybe"
[exit 1]
$ user list
alice@example.org (admin)
bob@example.org
$ user admin alice@example.org off
alice@example.org is no longer an admin of the web UI
$ user list
alice@example.org
bob@example.org
$ user list other.example
$ user passwd alice@example.org --password-stdin <<< a better passphrase
changed password of alice@example.org
$ user passwd nobody@example.org --password-stdin <<< a better passphrase
posthorn: unknown user nobody@example.org
[exit 1]
$ user passwd bob@example.org --password-stdin <<< short
posthorn: password must be at least 8 characters
[exit 1]
$ user quota alice@example.org
alice@example.org: quota the default: none; 0.0 MiB used by 0 messages
$ user quota Alice@example.org 100
set the quota of alice@example.org to 100 MiB
$ user quota alice@example.org
alice@example.org: quota 100 MiB; 0.0 MiB used by 0 messages
$ user quota alice@example.org 0
set the quota of alice@example.org to none
$ user quota alice@example.org default
set the quota of alice@example.org to the default: none
$ user quota alice@example.org lots
posthorn: quota "lots": want a size in MiB, 0 for none, or "default"
[exit 1]
$ user quota nobody@example.org 5
posthorn: unknown user nobody@example.org
[exit 1]
$ user quota
posthorn: posthorn user quota: want an address and, to set it, a quota in MiB or "default"
[exit 1]

$ alias add team@example.org alice@example.org Bob@example.org
added alias team@example.org -> alice@example.org, bob@example.org
$ alias add @example.org alice@example.org
added alias @example.org -> alice@example.org
$ alias add all@other.example team@example.org
added alias all@other.example -> team@example.org
$ alias add sales@example.org alice@example.org nobody@example.org
posthorn: add alias sales@example.org: target nobody@example.org is neither an account nor an alias: not found (targets must be local accounts or aliases)
[exit 1]
$ alias add sales@unknown.example alice@example.org
posthorn: alias sales@unknown.example: its domain is not local; add it first with posthorn domain add
[exit 1]
$ alias add alice@example.org bob@example.org
posthorn: alice@example.org already exists (as an account or alias)
[exit 1]
$ alias add sales@example.org
posthorn: alias add: want ADDRESS and at least one TARGET
[exit 1]
$ alias add @bad_domain alice@example.org
posthorn: invalid address "@bad_domain": domain label "bad_domain" has invalid character '_'
[exit 1]
$ alias list
@example.org -> alice@example.org
all@other.example -> team@example.org
team@example.org -> alice@example.org, bob@example.org

$ alias remove nobody@example.org
posthorn: unknown alias nobody@example.org
[exit 1]
$ user remove nobody@example.org
posthorn: unknown user nobody@example.org
[exit 1]
$ domain remove unknown.example
posthorn: unknown domain unknown.example
[exit 1]
$ domain remove example.org
posthorn: domain example.org still has accounts or aliases; remove them first
[exit 1]
$ alias remove @example.org
removed alias @example.org
$ alias remove team@example.org
removed alias team@example.org
$ alias list
$ alias remove all@other.example
posthorn: unknown alias all@other.example
[exit 1]
$ user remove alice@example.org
removed user alice@example.org
$ domain remove example.org
posthorn: domain example.org still has accounts or aliases; remove them first
[exit 1]
$ user remove bob@example.org
removed user bob@example.org
$ domain remove example.org
removed domain example.org
$ alias list
$ user list
$ domain list
other.example
$ check
ok
`)
}

// TestCLIPasswd: the hash stored by `user add` and `user passwd` verifies the password given on
// standard input, and only that one.
func TestCLIPasswd(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "")
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("first password\n", "user", "add", "alice@example.org", "--password-stdin")
	checkPassword(t, s.openData(), "alice@example.org", "first password", true)
	s.MustCLI("second password\r\n", "user", "passwd", "alice@example.org", "--password-stdin")
	checkPassword(t, s.openData(), "alice@example.org", "first password", false)
	checkPassword(t, s.openData(), "alice@example.org", "second password", true)
}

// TestCLIWhileServing: the admin commands work on the data directory of a running server, and
// the server sees their changes at once.
func TestCLIWhileServing(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "")
	s.Start()
	runTranscript(t, s, `
$ domain add example.org
added domain example.org
$ user add alice@example.org --password-stdin <<< correct horse battery
added user alice@example.org
$ alias add info@example.org alice@example.org
added alias info@example.org -> alice@example.org
`)
	for _, to := range []string{"alice@example.org", "info@example.org"} {
		if out, code := swaks(t, s, "--from", "sender@remote.example", "--to", to, "--header", "Subject: to "+to); code != 0 {
			t.Fatalf("delivery to %s: swaks exit %d\n%s", to, code, out)
		}
	}
	if got := headerValues(s.Inbox("alice@example.org"), "Subject"); strings.Join(got, ", ") != "to alice@example.org, to info@example.org" {
		t.Fatalf("alice's INBOX subjects: %q", got)
	}
	runTranscript(t, s, `
$ alias remove info@example.org
removed alias info@example.org
$ user remove alice@example.org
removed user alice@example.org
$ check
ok
`)
	out, _ := swaks(t, s, "--from", "sender@remote.example", "--to", "alice@example.org")
	if !strings.Contains(out, "\n<** 550 5.1.1 No such user here\n") {
		t.Fatalf("delivery to a removed user: want 550 5.1.1\n%s", out)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
}

// TestInit: `posthorn init` writes a configuration that loads, creates the domain and its
// postmaster, prints the password once, and never overwrites an existing file.
func TestInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	conf := filepath.Join(dir, "posthorn.toml")
	data := filepath.Join(dir, "maildata")
	initArgs := []string{"init", "--hostname", "mail.example.com", "--domain", "example.com", "--data", data, "-c", conf}
	out, errOut, code := runPosthorn(t, "", initArgs...)
	if code != 0 || errOut != "" {
		t.Fatalf("init: exit %d\n%s%s", code, out, errOut)
	}
	password := regexp.MustCompile(`(?m)^Password of postmaster@example\.com \(shown only now\): (\S+)$`).FindStringSubmatch(out)
	if password == nil || strings.Count(out, password[1]) != 1 {
		t.Fatalf("init does not print the password once:\n%s", out)
	}
	want := fmt.Sprintf("Wrote %s (hostname mail.example.com, data in %s).\n", conf, data) +
		"Created domain example.com and account postmaster@example.com.\n" +
		password[0] + "\n" +
		"The server runs as user posthorn (server.user); create it with: useradd --system --home-dir " + data + " --shell /usr/sbin/nologin posthorn\n" +
		"Start the server with: posthorn serve -c " + conf + "\n"
	if out != want {
		t.Errorf("init printed:\n%s\nwant:\n%s", out, want)
	}
	written, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}

	s := &Server{t: t, Dir: dir, Config: conf}
	runTranscript(t, s, fmt.Sprintf(`
$ config check %[1]s
%[1]s: ok
$ domain list
example.com
$ user list
postmaster@example.com
$ check
ok
`, conf))
	cfg, err := config.Load(conf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Hostname != "mail.example.com" || cfg.DataDir != data || cfg.Listen.SMTP != ":25" {
		t.Errorf("loaded config: hostname %q, data_dir %q, listen.smtp %q", cfg.Hostname, cfg.DataDir, cfg.Listen.SMTP)
	}
	if cfg.Server.User != "posthorn" {
		t.Errorf("loaded config: server.user %q, want posthorn (the server must not stay root)", cfg.Server.User)
	}
	if cfg.Listen.POP3 != ":110" || cfg.Listen.POP3S != ":995" {
		t.Errorf("loaded config: listen.pop3 %q, listen.pop3s %q", cfg.Listen.POP3, cfg.Listen.POP3S)
	}
	d, err := app.OpenData(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkPassword(t, d, "postmaster@example.com", password[1], true)

	out, errOut, code = runPosthorn(t, "", initArgs...)
	if wantErr := "posthorn: init: " + conf + " exists; remove it or choose another file with -c\n"; code == 0 || out != "" || errOut != wantErr {
		t.Errorf("second init: exit %d, stdout %q, stderr %q; want exit 1 and %q", code, out, errOut, wantErr)
	}
	if again, err := os.ReadFile(conf); err != nil || string(again) != string(written) {
		t.Errorf("second init changed %s (%v)", conf, err)
	}
}

// TestServeWithoutConfig: `posthorn serve` in an empty directory runs the trial configuration
// on 127.0.0.1:2525, 2143, 2993, 2110, 2995 and 8080. The first start creates postmaster@localhost and
// prints its password; the second start prints nothing of the kind.
//
// Every other test listens on ports the kernel picks from the ephemeral range, so only another
// program can hold these.
func TestServeWithoutConfig(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"127.0.0.1:2525", "127.0.0.1:2143", "127.0.0.1:2993", "127.0.0.1:2110", "127.0.0.1:2995", "127.0.0.1:8080"} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatalf("%s is in use by another program, and `posthorn serve` without -c needs it: %v", addr, err)
		}
		l.Close()
	}
	dir := t.TempDir()
	s := &Server{t: t, Dir: dir, SMTP: "127.0.0.1:2525", IMAP: "127.0.0.1:2143", IMAPS: "127.0.0.1:2993",
		POP3: "127.0.0.1:2110", POP3S: "127.0.0.1:2995", HTTP: "127.0.0.1:8080", Hostname: "localhost"}
	passwordLine := regexp.MustCompile(`(?m)^Password of postmaster@localhost \(shown only now\): (\S+)$`)

	s.Start()
	first := s.WaitLog("the postmaster's password", passwordLine.MatchString)
	password := passwordLine.FindStringSubmatch(first)
	if password == nil || !strings.HasPrefix(first, "Created domain localhost and account postmaster@localhost in ./posthorn-data.\n") {
		t.Fatalf("first start does not announce postmaster@localhost:\n%s", first)
	}
	if got := httpGet(t, "http://127.0.0.1:8080/healthz"); got != "ok\n" {
		t.Errorf("GET /healthz = %q", got)
	}
	out, errOut, code := runPosthornIn(t, dir, "", "user", "list")
	if code != 0 || out != "postmaster@localhost\n" {
		t.Errorf("user list: exit %d\n%s%s", code, out, errOut)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
	cfg := config.Default()
	cfg.DataDir = filepath.Join(dir, "posthorn-data")
	d, err := app.OpenData(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkPassword(t, d, "postmaster@localhost", password[1], true)

	s.Start()
	if second := s.Log(); strings.Contains(second, "postmaster") || strings.Contains(second, password[1]) {
		t.Errorf("second start speaks of the postmaster again:\n%s", second)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
	out, errOut, code = runPosthornIn(t, dir, "", "user", "list")
	if code != 0 || out != "postmaster@localhost\n" {
		t.Errorf("user list after the second start: exit %d\n%s%s", code, out, errOut)
	}
}

// runTranscript runs the commands of script on s's configuration and compares everything they
// print with the script.
func runTranscript(t *testing.T, s *Server, script string) {
	t.Helper()
	var want, got strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		if line == "" {
			continue
		}
		want.WriteString(line + "\n")
		command, ok := strings.CutPrefix(line, "$ ")
		if !ok {
			continue
		}
		stdin := ""
		if c, in, ok := strings.Cut(command, " <<< "); ok {
			command, stdin = c, in+"\n"
		}
		out, errOut, code := s.CLI(stdin, strings.Fields(command)...)
		got.WriteString(line + "\n" + out + errOut)
		if code != 0 {
			fmt.Fprintf(&got, "[exit %d]\n", code)
		}
		switch {
		case code != 0 && (out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, "posthorn: ")):
			t.Errorf("%s: exit %d; a failure must be one line on stderr starting with \"posthorn: \", got stdout %q, stderr %q", command, code, out, errOut)
		case code == 0 && errOut != "":
			t.Errorf("%s: succeeded but wrote on stderr: %q", command, errOut)
		}
	}
	if got.String() != want.String() {
		g, w := strings.Split(got.String(), "\n"), strings.Split(want.String(), "\n")
		i := 0
		for i < len(g) && i < len(w) && g[i] == w[i] {
			i++
		}
		t.Errorf("transcript differs at line %d:\n got %q\nwant %q\n--- whole transcript\n%s", i+1, g[min(i, len(g)-1)], w[min(i, len(w)-1)], got.String())
	}
}

// checkPassword reports whether account's stored hash verifies password as it should, and
// closes d.
func checkPassword(t *testing.T, d *app.Data, account, password string, want bool) {
	t.Helper()
	defer d.Close()
	acc, err := d.Store.GetAccount(context.Background(), account)
	if err != nil {
		t.Fatalf("account %s: %v", account, err)
	}
	ok, err := auth.CheckPassword(acc.PasswordHash, password)
	if err != nil || ok != want {
		t.Errorf("password %q of %s: verifies %v (%v), want %v", password, account, ok, err, want)
	}
}
