package gdpr_test

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"errors"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/app"
	"posthorn/internal/gdpr"
	"posthorn/internal/operr"
	"posthorn/internal/store"
	"posthorn/internal/testutil/gdprtest"
)

const (
	alice  = "alice@example.org"
	marker = "ZQXJVKW" // in alice's mail and attributes only
)

// markerTrigrams are the full-text index's terms (trigram tokenizer, case folded) that only
// the marker makes.
var markerTrigrams = []string{"zqx", "qxj", "xjv", "jvk", "vkw"}

// aliceEnv is a data directory where alice is everything at once: an account that received
// and sent mail holding the marker (the sent message still queued), with an app password, a
// quota, an alias and a send-as grant naming her, logins and a web session; a subscriber with
// tracking events and a suppression; in the mail log, the greylist, another account's
// correspondents and the audit log. bob is an account that must be left as he was.
func aliceEnv(t *testing.T) (*env, store.Account) {
	e := newEnv(t)
	ctx := e.ctx()
	acc, err := e.ops.AddAccount(ctx, alice, "correct horse battery staple")
	e.check(err)
	bob, err := e.ops.AddAccount(ctx, "bob@example.org", "correct horse battery staple")
	e.check(err)
	_, _, err = e.ops.AddAlias(ctx, "info@example.org", []string{alice, "bob@example.org"})
	e.check(err)
	_, err = e.ops.AddAppPassword(ctx, alice, "phone")
	e.check(err)
	e.check(e.ops.SetQuota(ctx, alice, 1<<30))
	e.check(e.ops.AddSendAs(ctx, "bob@example.org", alice))

	e.deliver("From: bob@example.org\nSubject: first\n\nFrom bob, so that the mbox has two messages.\n",
		[]store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}}, nil)
	in := e.deliver("From: Carol <carol@remote.test>\nTo: Alice <Alice@Example.org>\nSubject: hello\n\n"+
		"The marker "+marker+" lives here.\nFrom the start, this line is quoted in an mbox.\n>From here too.\n",
		[]store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}}, nil)
	out := e.deliver("From: alice@example.org\nTo: dave@remote.test\nSubject: re\n\nAnswering with "+marker+".\n",
		[]store.Target{{AccountID: acc.ID, Mailbox: "Sent"}},
		[]store.Outbound{{Sender: alice, Recipient: "dave@remote.test"}})
	now := time.Now().UTC()
	e.mailEvents(
		store.MailEvent{Time: now, Event: "received", BlobID: in, MsgID: "m1@remote.test", From: "carol@remote.test",
			Rcpt: "Alice@example.org", Result: "stored", Code: "250 2.0.0", Remote: "192.0.2.7", Size: 200,
			Mailboxes: []store.MailEventMailbox{{Account: alice, Mailbox: "INBOX"}}},
		store.MailEvent{Time: now, Event: "queued", BlobID: out, MsgID: "m2@example.org", From: "ALICE@example.org",
			Rcpt: "dave@remote.test", Result: "queued", Code: "250 2.0.0", Size: 100},
		store.MailEvent{Time: now, Event: "bounced", From: "dave@remote.test", Rcpt: "bob@example.org,alice@example.org",
			Result: "bounced", Code: "550 5.1.1 <alice@example.org>: no such user", Reasons: "rcpt alice@example.org"},
		store.MailEvent{Time: now, Event: "received", MsgID: "m4@remote.test", From: "x@remote.test",
			Rcpt: "bob@example.org", Result: "stored", Code: "250 2.0.0"},
	)
	e.subscriber(alice, "news", map[string]any{"city": marker + "-town"})
	e.subscriber("other@remote.test", "news", nil)
	e.check(e.campaigns.AddSuppressions(ctx, []store.Suppression{{Address: alice, Reason: store.SuppressManual, Source: "cli"}}))

	ls := e.data.Store.(store.LoginStore)
	e.check(ls.RecordLoginSource(ctx, acc.ID, "192.0.2.1/32", now, 10))
	ws := e.data.Store.(store.WebStore)
	e.check(ws.RecordWebLogin(ctx, store.WebLogin{AccountID: acc.ID, At: now, Source: "192.0.2.1", UserAgent: "Firefox/140"}, 10))
	id := sha256.Sum256([]byte("session"))
	e.check(ws.CreateWebSession(ctx, store.WebSession{IDHash: id[:], AccountID: acc.ID, CreatedAt: now, LastSeen: now,
		Source: "192.0.2.1", UserAgent: "Firefox/140"}))
	_, err = e.data.Store.(store.GreylistStore).Greylist(ctx, "192.0.2.0/24/carol@remote.test/alice@example.org",
		now, time.Minute, time.Hour)
	e.check(err)
	e.check(e.data.Store.(store.Correspondents).NoteCorrespondents(ctx, []store.Correspondent{
		{AccountID: bob.ID, Address: alice, At: now}}))
	return e, acc
}

func TestExportAccount(t *testing.T) {
	e, _ := aliceEnv(t)
	var buf bytes.Buffer
	idx, err := e.svc.Export(e.ctx(), "Alice@EXAMPLE.org", &buf)
	if err != nil {
		t.Fatal(err)
	}
	files := gdprtest.ReadZip(t, buf.Bytes())
	if got := index(t, files); got.Address != alice || strings.Join(got.Kinds, ",") != "account,subscriber,correspondent" {
		t.Errorf("index: address %q, kinds %v", got.Address, got.Kinds)
	}
	// Each part holds what it should, and says so in its count.
	for _, want := range []struct {
		part, mailbox string
		count         int64
		holds         []string
	}{
		{"account", "", 1, []string{alice, `"phone"`, `"quota_bytes": 1073741824`, `"send_as": []`}},
		{"mailbox", "INBOX", 2, []string{marker, "carol@remote.test", "\n>From the start", "\n>>From here too", "\n\nFrom MAILER-DAEMON "}},
		{"mailbox", "Sent", 1, []string{marker, "dave@remote.test"}},
		{"mailbox", "Trash", 0, nil},
		{"aliases", "", 1, []string{"info@example.org", alice}},
		{"send_as_grants", "", 1, []string{"bob@example.org", alice}},
		{"logins", "", 2, []string{"192.0.2.1/32", "Firefox/140", `"web"`}},
		{"web_sessions", "", 1, []string{"Firefox/140"}},
		{"mail_log", "", 3, []string{"m1@remote.test", "ALICE@example.org", "no such user", `"mailbox":"INBOX"`}},
		{"queue", "", 1, []string{alice, "dave@remote.test"}},
		{"subscriber", "", 1, []string{alice, marker + "-town", "Some One"}},
		{"subscriptions", "", 1, []string{`"news"`, "confirmed"}},
		{"consent_records", "", 1, []string{"Yes, send me the news", "198.51.100.0", `"form"`}},
		{"campaign_recipients", "", 2, []string{alice}}, // both campaigns to news
		{"tracking_events", "", 2, []string{`"open"`, `"click"`, "203.0.113.0", "Mozilla/5.0 (Tracked)"}},
		{"suppressions", "", 1, []string{alice, "manual"}},
		{"spam_filter", "", 1, []string{"bob@example.org"}},
		{"greylist", "", 1, []string{"carol@remote.test/alice@example.org"}},
		{"audit", "", 0, []string{"user.add", "alias.add", "user.quota"}},
	} {
		p := part(t, idx, want.part, want.mailbox)
		text := files[p.File]
		if want.count > 0 && p.Count != want.count || want.count == 0 && want.part != "audit" && p.Count != 0 {
			t.Errorf("%s %s: count %d, want %d", want.part, want.mailbox, p.Count, want.count)
		}
		for _, h := range want.holds {
			if !strings.Contains(text, h) {
				t.Errorf("%s %s does not hold %q:\n%s", want.part, want.mailbox, h, text)
			}
		}
	}
	if p := part(t, idx, "audit", ""); p.Count < 4 {
		t.Errorf("audit: %d entries, want at least user.add, alias.add, app password, quota, send-as", p.Count)
	}
	// Never a hash or a secret.
	for name, text := range files {
		if strings.Contains(text, "$argon2") || strings.Contains(text, "hash-of") {
			t.Errorf("%s holds a password hash", name)
		}
	}
	if strings.Contains(files[part(t, idx, "mail_log", "").File], "x@remote.test") {
		t.Error("mail_log holds an event that does not name alice")
	}
}

func TestEraseAccount(t *testing.T) {
	e, _ := aliceEnv(t)
	ctx := e.ctx()
	db := app.DatabaseFile(e.dir)
	if n := ftsTerms(t, db); n != len(markerTrigrams) {
		t.Fatalf("before erasure, %d of the marker's terms in the full-text index", n)
	}
	if holding := gdprtest.FilesHolding(t, e.dir, alice, marker); len(holding) == 0 {
		t.Fatal("before erasure no file holds alice or the marker: the test checks nothing")
	}

	// A dry run counts and changes nothing.
	before := fileSums(t, e.dir)
	dry, err := e.svc.Erase(ctx, alice, true)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(before, fileSums(t, e.dir)) {
		t.Error("a dry run changed files of the data directory")
	}
	counts := map[string]int64{}
	for _, c := range dry.Parts {
		counts[c.Part] = c.Count
	}
	if counts["messages"] != 3 || counts["queue"] != 1 || counts["tracking_events"] != 2 || counts["mail_log"] != 3 ||
		counts["subscriber"] != 1 || counts["logins"] != 2 || counts["web_sessions"] != 1 || dry.Pseudonym != "" {
		t.Errorf("dry run: %+v", dry)
	}

	got, err := e.svc.Erase(ctx, alice, false)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got.Pseudonym, "@"+gdpr.PseudonymDomain) || len(got.Pseudonym) != 64+1+len(gdpr.PseudonymDomain) {
		t.Fatalf("pseudonym %q", got.Pseudonym)
	}
	// Nothing left in any file of the data directory: the database, its WAL and WAL index,
	// the message bodies, the full-text index.
	if holding := gdprtest.FilesHolding(t, e.dir, alice, marker); len(holding) > 0 {
		t.Errorf("after erasure:\n%s", strings.Join(holding, "\n"))
	}
	if n := ftsTerms(t, db); n != 0 {
		t.Errorf("after erasure, %d of the marker's terms in the full-text index", n)
	}
	if _, err := e.data.Store.GetAccount(ctx, alice); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("account after erasure: %v", err)
	}
	// The mail log keeps its rows, under the pseudonym; the unrelated one as it was.
	me := e.data.Store.(store.MailEventStore)
	all, err := me.SearchMailEvents(ctx, store.MailEventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("mail log: %d events, want all 4 kept", len(all))
	}
	pseud, err := me.SearchMailEvents(ctx, store.MailEventQuery{Rcpt: got.Pseudonym})
	if err != nil {
		t.Fatal(err)
	}
	if len(pseud) != 2 {
		t.Errorf("events to the pseudonym: %+v", pseud)
	}
	for _, ev := range all {
		switch ev.MsgID {
		case "m2@example.org":
			if ev.From != got.Pseudonym {
				t.Errorf("sender of the sent message: %q", ev.From)
			}
		case "m4@remote.test":
			if ev.From != "x@remote.test" || ev.Rcpt != "bob@example.org" {
				t.Errorf("unrelated event rewritten: %+v", ev)
			}
		case "":
			if ev.Rcpt != "bob@example.org,"+got.Pseudonym || !strings.Contains(ev.Code, "<"+got.Pseudonym+">") {
				t.Errorf("bounce: %+v", ev)
			}
		}
	}
	// The audit log records the erasure under the pseudonym, and names alice nowhere.
	entries, err := e.data.Store.(store.AuditStore).ListAudit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var erasure *store.AuditEntry
	for i, a := range entries {
		if strings.Contains(strings.ToLower(a.Actor+a.Target+a.Details), alice) {
			t.Errorf("audit entry names alice: %+v", a)
		}
		if a.Action == "gdpr.erase" {
			erasure = &entries[i]
		}
	}
	if erasure == nil || erasure.Target != got.Pseudonym || erasure.ID != got.AuditID || !strings.Contains(erasure.Details, `"messages":3`) {
		t.Errorf("erasure entry %+v", erasure)
	}
	// bob and the other subscriber stay.
	if _, err := e.data.Store.GetAccount(ctx, "bob@example.org"); err != nil {
		t.Error(err)
	}
	if a, err := e.data.Store.GetAlias(ctx, "info@example.org"); err != nil || len(a.Targets) != 1 {
		t.Errorf("alias info: %+v, %v", a, err)
	}
	if _, err := e.campaigns.GetSubscriber(ctx, "other@remote.test"); err != nil {
		t.Error(err)
	}
	// The data directory is consistent: reference counts, bodies, the index.
	if problems, err := e.ops.Check(ctx); err != nil || len(problems) > 0 {
		t.Errorf("check after erasure: %v %v", problems, err)
	}
	// And a second erasure finds nothing.
	if _, err := e.svc.Erase(ctx, alice, false); !isNotFound(err) {
		t.Errorf("second erasure: %v", err)
	}
}

func isNotFound(err error) bool {
	_, ok := operr.As(err, operr.NotFound, "address")
	return ok
}

// ftsTerms counts the marker's trigrams in the full-text index's vocabulary, on a connection
// of its own.
func ftsTerms(t *testing.T, path string) int {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.ToSlash(path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), `CREATE VIRTUAL TABLE temp.vocab USING fts5vocab(main, message_text, 'row')`); err != nil {
		t.Fatal(err)
	}
	var n int
	err = conn.QueryRowContext(t.Context(), `SELECT count(*) FROM temp.vocab WHERE term IN (?, ?, ?, ?, ?)`,
		markerTrigrams[0], markerTrigrams[1], markerTrigrams[2], markerTrigrams[3], markerTrigrams[4]).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCorrespondentOnly(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	const erin = "erin@remote.test"
	e.mailEvents(
		store.MailEvent{Time: time.Now(), Event: "received", MsgID: "e1@remote.test", From: "Erin@Remote.test",
			Rcpt: "postmaster@example.org", Result: "rejected", Code: "550 5.7.1 spam"},
		store.MailEvent{Time: time.Now(), Event: "received", MsgID: "e2@remote.test", From: "someone@remote.test",
			Rcpt: "postmaster@example.org", Result: "stored", Code: "250"},
	)
	var buf bytes.Buffer
	idx, err := e.svc.Export(ctx, erin, &buf)
	if err != nil {
		t.Fatal(err)
	}
	files := gdprtest.ReadZip(t, buf.Bytes())
	index(t, files)
	if strings.Join(idx.Kinds, ",") != "correspondent" || part(t, idx, "mail_log", "").Count != 1 ||
		!strings.Contains(files["mail_log.json"], `"from":"Erin@remote.test"`) || files["account.json"] != "" {
		t.Errorf("export of a correspondent: %+v\n%s", idx, files["mail_log.json"])
	}
	got, err := e.svc.Erase(ctx, erin, false)
	if err != nil {
		t.Fatal(err)
	}
	if holding := gdprtest.FilesHolding(t, e.dir, erin); len(holding) > 0 {
		t.Errorf("after erasure:\n%s", strings.Join(holding, "\n"))
	}
	evs, err := e.data.Store.(store.MailEventStore).SearchMailEvents(ctx, store.MailEventQuery{From: got.Pseudonym})
	if err != nil || len(evs) != 1 || evs[0].MsgID != "e1@remote.test" {
		t.Errorf("events from the pseudonym: %+v, %v", evs, err)
	}
}

func TestSubscriberOnly(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	const frank = "frank@remote.test"
	e.subscriber(frank, "news", map[string]any{"plan": "gold"})
	e.subscriber("gina@remote.test", "news", nil)
	var buf bytes.Buffer
	idx, err := e.svc.Export(ctx, frank, &buf)
	if err != nil {
		t.Fatal(err)
	}
	files := gdprtest.ReadZip(t, buf.Bytes())
	index(t, files)
	if strings.Join(idx.Kinds, ",") != "subscriber" || part(t, idx, "tracking_events", "").Count != 2 ||
		!strings.Contains(files["subscriber.json"], `"plan": "gold"`) {
		t.Errorf("export of a subscriber: %+v\n%s", idx, files["subscriber.json"])
	}
	if _, err := e.svc.Erase(ctx, frank, false); err != nil {
		t.Fatal(err)
	}
	if holding := gdprtest.FilesHolding(t, e.dir, frank, "gold"); len(holding) > 0 {
		t.Errorf("after erasure:\n%s", strings.Join(holding, "\n"))
	}
	if _, err := e.campaigns.GetSubscriber(ctx, frank); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("subscriber after erasure: %v", err)
	}
	if _, err := e.campaigns.GetSubscriber(ctx, "gina@remote.test"); err != nil {
		t.Errorf("another subscriber: %v", err)
	}
}

func TestNothingHeld(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.Export(e.ctx(), "nobody@example.org", &bytes.Buffer{}); !isNotFound(err) ||
		!strings.Contains(err.Error(), "nothing is held about nobody@example.org") {
		t.Errorf("export of nobody: %v", err)
	}
	if _, err := e.svc.Erase(e.ctx(), "nobody@example.org", true); !isNotFound(err) {
		t.Errorf("erase of nobody: %v", err)
	}
	if _, err := e.svc.Erase(e.ctx(), "not an address", false); err == nil {
		t.Error("erase of a malformed address: no error")
	} else if _, ok := operr.As(err, operr.Invalid, "address"); !ok {
		t.Errorf("erase of a malformed address: %v", err)
	}
}

// TestExportPagesMailbox checks that a mailbox of more messages than one page of rows is
// exported whole, each message once.
func TestExportPagesMailbox(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	acc, err := e.ops.AddAccount(ctx, "many@example.org", "correct horse battery staple")
	e.check(err)
	e.deliver("From: someone@remote.test\nSubject: one of many\n\nFrom a line to quote.\n",
		[]store.Target{{AccountID: acc.ID, Mailbox: "Archive"}}, nil)
	archive, err := e.data.Store.GetMailbox(ctx, acc.ID, "Archive")
	e.check(err)
	for range 9 { // 1 message doubled 9 times: 512
		uids, err := e.data.Store.ListUIDs(ctx, archive.ID)
		e.check(err)
		_, err = e.data.Store.Copy(ctx, archive.ID, uids, archive.ID)
		e.check(err)
	}
	var buf bytes.Buffer
	idx, err := e.svc.Export(ctx, "many@example.org", &buf)
	e.check(err)
	files := gdprtest.ReadZip(t, buf.Bytes())
	p := part(t, idx, "mailbox", "Archive")
	text := files[p.File]
	if p.Count != 512 || strings.Count(text, "\nFrom MAILER-DAEMON ")+1 != 512 || strings.Count(text, "\n>From a line") != 512 {
		t.Errorf("Archive: count %d, %d From lines, %d quoted", p.Count, strings.Count(text, "From MAILER-DAEMON "),
			strings.Count(text, "\n>From a line"))
	}
}

// TestAuditOnly: an address named only by the audit log (an account removed long ago) is
// found there, and erasing it pseudonymises the entries.
func TestAuditOnly(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx()
	_, err := e.ops.AddAccount(ctx, "gone@example.org", "correct horse battery staple")
	e.check(err)
	e.check(e.ops.RemoveAccount(ctx, "gone@example.org"))
	var buf bytes.Buffer
	idx, err := e.svc.Export(ctx, "gone@example.org", &buf)
	e.check(err)
	if len(idx.Kinds) != 0 || part(t, idx, "audit", "").Count != 2 {
		t.Errorf("export: %+v", idx)
	}
	got, err := e.svc.Erase(ctx, "gone@example.org", false)
	e.check(err)
	entries, err := e.data.Store.(store.AuditStore).ListAudit(ctx, store.AuditFilter{Target: got.Pseudonym})
	e.check(err)
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action)
	}
	if strings.Join(actions, ",") != "user.add,user.remove,gdpr.export,gdpr.erase" {
		t.Errorf("entries under the pseudonym: %v", actions)
	}
}
