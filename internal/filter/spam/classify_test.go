package spam

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

// openStore opens an SQLite store with the account alice@example.org.
func openStore(t testing.TB) (*sqlite.Store, store.Account) {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "posthorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	if _, err := s.AddDomain(context.Background(), "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddAccount(context.Background(), "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

// msg builds a message from header lines and a body.
func msg(header, body string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimSpace(header), "\n", "\r\n") + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
}

func classify(t testing.TB, c *Classifier, account int64, m []byte, s Signals) Score {
	t.Helper()
	sc, err := c.Classify(context.Background(), account, bytes.NewReader(m), int64(len(m)), s)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// TestSQLModelAgrees trains the SQLite model and the in-memory one alike, the global model
// and an account's, and checks that both score a sample of other messages the same.
func TestSQLModelAgrees(t *testing.T) {
	train, test := splitCorpus(t)
	st, alice := openStore(t)
	mem := NewMemoryModel()
	sample := append(append([]labelled{}, train[:150]...), train[len(train)-300:]...) // spam and ham
	for _, m := range []store.SpamModel{mem, st} {
		trainOn(t, m, 0, sample[:200])
		trainOn(t, m, alice.ID, sample[200:])
	}
	cm := New(mem, nil, nil, nil, Config{}, nil)
	cs := New(st, nil, nil, nil, Config{}, nil)
	for i := 0; i < len(test); i += 25 {
		m := test[i]
		a := classify(t, cm, alice.ID, m.data, Signals{})
		b := classify(t, cs, alice.ID, m.data, Signals{})
		if math.Abs(a.Value-b.Value) > 1e-9 || a.Bayes != b.Bayes {
			t.Errorf("%s: memory %s (p=%v), sqlite %s (p=%v)", m.name, a, a.Bayes, b, b.Bayes)
		}
	}
}

// TestAccountModelWeighsIn: an account that trained enough sees its own judgement; the global
// model and other accounts do not.
func TestAccountModelWeighsIn(t *testing.T) {
	model := NewMemoryModel()
	newsletter := msg("From: news@shop.example\nTo: a@example.org\nSubject: weekly offers\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@shop.example>",
		"Our weekly offers on garden furniture and barbecue grills, only this week.")
	letter := msg("From: friend@example.net\nTo: a@example.org\nSubject: lunch\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <2@example.net>",
		"Shall we meet for lunch on Tuesday at the usual place near the station?")
	var batch []store.SpamTraining
	add := func(account int64, m []byte, spam bool, n int) {
		toks, err := Tokenize(bytes.NewReader(m), int64(len(m)))
		if err != nil {
			t.Fatal(err)
		}
		for range n {
			batch = append(batch, store.SpamTraining{AccountID: account, Spam: spam, Tokens: toks.Hashes()})
		}
	}
	add(0, newsletter, false, 100) // everyone else reads the newsletter
	add(0, letter, false, 100)
	add(0, msg("From: x@spam.example\nSubject: pills", "cheap pills now"), true, 100)
	add(7, newsletter, true, MinAccountTraining) // account 7 finds it junk
	add(7, letter, false, MinAccountTraining)
	if err := model.TrainSpam(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	c := New(model, nil, nil, nil, Config{}, nil)
	if sc := classify(t, c, 0, newsletter, Signals{}); sc.Spam {
		t.Errorf("global model: %s, want ham", sc)
	}
	if sc := classify(t, c, 8, newsletter, Signals{}); sc.Spam {
		t.Errorf("untrained account: %s, want ham", sc)
	}
	if sc := classify(t, c, 7, newsletter, Signals{}); !sc.Spam {
		t.Errorf("account that trained it as spam: %s, want spam", sc)
	}
	if sc := classify(t, c, 7, letter, Signals{}); sc.Spam {
		t.Errorf("account's ham: %s, want ham", sc)
	}
}

func TestUntrainedModelIsUnsure(t *testing.T) {
	c := New(NewMemoryModel(), nil, nil, nil, Config{}, nil)
	sc := classify(t, c, 0, msg("From: a@example.net\nDate: x\nMessage-ID: <1@x>", "hello"), Signals{})
	if sc.Value != 0 || sc.Bayes != 0.5 || len(sc.Reasons) != 0 {
		t.Errorf("untrained: %s p=%v, want 0 without reasons", sc, sc.Bayes)
	}
}

// TestListsShortCircuit: allow and block entries decide alone; an allow entry does not hold
// for a message that failed DMARC.
func TestListsShortCircuit(t *testing.T) {
	st, alice := openStore(t)
	ctx := context.Background()
	for _, e := range []store.SpamListEntry{{Entry: "friend@example.net"}, {Entry: "@spam.example", Block: true}, {Entry: "@lists.example"}} {
		if err := st.AddSpamListEntry(ctx, alice.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	c := New(NewMemoryModel(), st, nil, nil, Config{}, nil)
	gtube := "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"
	for _, tc := range []struct {
		name    string
		from    string
		sender  string
		dmarc   string
		want    string
		account int64
	}{
		{"allowed address", "Friend@Example.NET", "", "", "allow_list", alice.ID},
		{"allowed parent domain", "x@news.lists.example", "", "", "allow_list", alice.ID},
		{"blocked domain", "boss@spam.example", "", "", "block_list", alice.ID},
		{"blocked envelope sender", "friend@example.net", "bounce@spam.example", "", "block_list", alice.ID},
		{"allow without DMARC", "friend@example.net", "", "fail", "gtube", alice.ID},
		{"no account, no lists", "friend@example.net", "", "", "gtube", 0},
	} {
		sc := classify(t, c, tc.account, msg("From: "+tc.from+"\nDate: x\nMessage-ID: <1@x>", gtube), Signals{MailFrom: tc.sender, DMARC: tc.dmarc})
		if got := sc.Main(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, sc, tc.want)
		}
		if sc.Spam != (tc.want != "allow_list") {
			t.Errorf("%s: spam %v", tc.name, sc.Spam)
		}
	}
}

// TestFirstTimeSender: once an account has correspondents, a sender it never wrote to nor
// heard from adds points; one it heard from (noted by Classify) does not.
func TestFirstTimeSender(t *testing.T) {
	st, alice := openStore(t)
	ctx := context.Background()
	c := New(NewMemoryModel(), nil, st, nil, Config{}, nil)
	hasReason := func(sc Score) bool {
		for _, r := range sc.Reasons {
			if r.Name == "first_time_sender" {
				return true
			}
		}
		return false
	}
	from := func(addr string) []byte { return msg("From: <"+addr+">\nDate: x\nMessage-ID: <1@x>", "hello") }
	flush := func() {
		t.Helper()
		if err := c.FlushCorrespondents(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if sc := classify(t, c, alice.ID, from("dave@example.net"), Signals{}); hasReason(sc) {
		t.Errorf("no correspondents yet: %s", sc)
	}
	flush() // dave, noted by Classify
	if sc := classify(t, c, alice.ID, from("bob@example.net"), Signals{}); !hasReason(sc) {
		t.Errorf("bob is new: %s", sc)
	}
	flush()
	if sc := classify(t, c, alice.ID, from("Bob@Example.net"), Signals{}); hasReason(sc) {
		t.Errorf("bob wrote before: %s", sc)
	}
	c.NoteSent(alice.ID, []string{"carol@example.net"})
	flush()
	if sc := classify(t, c, alice.ID, from("carol@example.net"), Signals{}); hasReason(sc) {
		t.Errorf("alice wrote to carol: %s", sc)
	}
}

func TestHeuristicsAndAuth(t *testing.T) {
	c := New(NewMemoryModel(), nil, nil, nil, Config{}, nil)
	html := `<html><body><p>Your account: <a href="http://login.evil.example/x">https://www.bank.example/login</a></p></body></html>`
	m := msg("From: bank@bank.example\nTo: a@example.org\nContent-Type: text/html; charset=utf-8", html)
	sc := classify(t, c, 0, m, Signals{SPF: "fail", DKIM: "fail", DMARC: "fail", Recipients: 40})
	want := []string{"dmarc_fail", "link_mismatch", "spf_fail", "missing_date", "dkim_fail", "missing_message_id", "html_only", "many_recipients"}
	var got []string
	for _, r := range sc.Reasons {
		got = append(got, r.Name)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("reasons %v, want %v", got, want)
	}
	if !sc.Spam || sc.Value != 8.5 {
		t.Errorf("%s: want spam at 8.5", sc)
	}
	ok := msg("From: a@example.net\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@example.net>", "hello")
	if sc := classify(t, c, 0, ok, Signals{SPF: "pass", DKIM: "pass", DMARC: "pass"}); sc.Value != -1.5 || sc.Spam {
		t.Errorf("authenticated: %s, want -1.5", sc)
	}
}

func TestRejectThreshold(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(sharedSpam(t), "sample-spam.txt"))
	if err != nil {
		t.Fatal(err)
	}
	off := New(NewMemoryModel(), nil, nil, nil, Config{}, nil)
	on := New(NewMemoryModel(), nil, nil, nil, Config{RejectThreshold: 15}, nil)
	if sc := classify(t, off, 0, data, Signals{}); sc.Reject || !sc.Spam {
		t.Errorf("reject off by default: %s reject=%v", sc, sc.Reject)
	}
	if sc := classify(t, on, 0, data, Signals{}); !sc.Reject {
		t.Errorf("reject at 15: %s reject=%v", sc, sc.Reject)
	}
}
