package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil"
	"posthorn/internal/testutil/mailenv"
)

// newEnv is a store with alice, and an importer into it.
func newEnv(t *testing.T) (*mailenv.Env, *Importer) {
	t.Helper()
	env := mailenv.NewWithPasswordHash(t, "mail.example.org", "unused")
	st, ok := env.Store.(Store)
	if !ok {
		t.Fatalf("store %T has no import ledger", env.Store)
	}
	return env, &Importer{Store: st, Committer: env.Committer, TempDir: t.TempDir(), Logger: env.Logger}
}

// generatedMessage is message i of a generated mbox: a body line that needs From_ escaping
// and one already escaped, so that unescaping is checked on every message.
func generatedMessage(i int) string {
	return fmt.Sprintf("From: sender%d@example.net\nTo: alice@example.org\nSubject: message %d\nMessage-ID: <%d@example.net>\n\nbody of %d\nFrom the start of a line\n>From quoted already\n", i, i, i, i)
}

// writeMbox writes n generated messages as an mboxrd file.
func writeMbox(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "mbox")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "From sender%d@example.net Thu Jan  1 10:00:%02d 2026\n", i, i%60)
		for _, line := range strings.SplitAfter(generatedMessage(i), "\n") {
			if isFromLine([]byte(line)) || isEscapedFrom([]byte(line)) {
				w.WriteString(">")
			}
			w.WriteString(line)
		}
		w.WriteString("\n")
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImportMbox(t *testing.T) {
	const n = 10000
	env, im := newEnv(t)
	path := writeMbox(t, n)
	ctx := t.Context()

	// An interrupted run: cancelled once a thousand messages are done.
	cctx, cancel := context.WithCancel(ctx)
	im.Progress = func(done, total int64) {
		if done == 1000 {
			cancel()
		}
	}
	sum, err := im.Import(cctx, Mbox{Path: path}, "alice@example.org", "")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v (%v)", err, sum)
	}
	if sum.Copied < 1000 || sum.Copied >= n {
		t.Fatalf("interrupted run copied %d", sum.Copied)
	}
	im.Progress = nil

	sum, err = im.Import(ctx, Mbox{Path: path}, "alice@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	first := sum.Copied
	if sum.Skipped == 0 || sum.Copied+sum.Skipped != n {
		t.Fatalf("rerun: %v", sum)
	}
	got := env.Mailbox(env.Alice, "INBOX")
	if len(got) != n {
		t.Fatalf("INBOX has %d messages, want %d", len(got), n)
	}
	seen := map[string]bool{}
	for _, m := range got {
		seen[m] = true
	}
	for i := range n {
		if !seen[generatedMessage(i)] {
			t.Fatalf("message %d missing or changed (rerun copied %d)", i, first)
		}
	}

	sum, err = im.Import(ctx, Mbox{Path: path}, "alice@example.org", "")
	if err != nil || sum.Copied != 0 || sum.Skipped != n {
		t.Fatalf("third run: %v %v", sum, err)
	}
	if got := len(env.Mailbox(env.Alice, "INBOX")); got != n {
		t.Fatalf("INBOX has %d messages after the third run", got)
	}
}

// TestImportMboxIntoMailbox: --mailbox, the From_ line's date, a message without a trailing
// blank line at the end of the file, and the refusals.
func TestImportMboxIntoMailbox(t *testing.T) {
	env, im := newEnv(t)
	path := filepath.Join(t.TempDir(), "mbox")
	text := "preamble\nFrom a@example.net Mon Feb  2 03:04:05 2026\nSubject: one\n\n>From me\n\n" +
		"From b@example.net Tue Feb  3 03:04:05 2026\nSubject: two, large\n\n" + strings.Repeat("x", 5000) + "\n\n" +
		"From c@example.net Wed Feb  4 03:04:05 2026\nSubject: three\n\n>>From you\nlast"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	im.MaxMessageSize = 1000
	sum, err := im.Import(t.Context(), Mbox{Path: path}, "alice@example.org", "Old/Archive")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Copied != 2 || sum.Refused[RefusedTooLarge] != 1 {
		t.Fatalf("summary %v", sum)
	}
	got := env.Mailbox(env.Alice, "Old/Archive")
	slices.Sort(got)
	want := []string{"Subject: one\n\nFrom me\n", "Subject: three\n\n>From you\nlast"}
	if !slices.Equal(got, want) {
		t.Fatalf("messages %q, want %q", got, want)
	}
	mb, err := env.Store.GetMailbox(t.Context(), env.Alice.ID, "Old/Archive")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := env.Store.ListMessages(t.Context(), mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	dates := []time.Time{msgs[0].InternalDate.UTC(), msgs[1].InternalDate.UTC()}
	slices.SortFunc(dates, time.Time.Compare)
	if !dates[0].Equal(time.Date(2026, 2, 2, 3, 4, 5, 0, time.UTC)) || !dates[1].Equal(time.Date(2026, 2, 4, 3, 4, 5, 0, time.UTC)) {
		t.Fatalf("internal dates %v", dates)
	}
}

// TestImportQuota: messages over the account's quota are refused, the others stored.
func TestImportQuota(t *testing.T) {
	env, im := newEnv(t)
	im.Workers = 1
	im.DefaultQuota = 3000
	path := writeMbox(t, 30)
	sum, err := im.Import(t.Context(), Mbox{Path: path}, "alice@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	stored := len(env.Mailbox(env.Alice, "INBOX"))
	if sum.Refused[RefusedOverQuota] == 0 || int64(stored) != sum.Copied || sum.Copied == 0 {
		t.Fatalf("summary %v, %d stored", sum, stored)
	}
	used, _, err := env.Store.AccountUsage(t.Context(), env.Alice.ID)
	if err != nil || used > 3000 {
		t.Fatalf("usage %d %v", used, err)
	}
}

// oddMessages are the messages of the shared MIME corpora: bad encodings, no Date, huge
// headers, malformed structure.
func oddMessages(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	root := testutil.SharedTestdata(t, "mime")
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), "LICENSE") || strings.HasSuffix(d.Name(), ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			out = append(out, b)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var noDate, bigHeader bool
	for _, m := range out {
		head, _, _ := strings.Cut(strings.ReplaceAll(string(m), "\r\n", "\n"), "\n\n")
		noDate = noDate || !strings.Contains(strings.ToLower("\n"+head), "\ndate:")
		bigHeader = bigHeader || len(head) > 8000
	}
	if len(out) < 50 || !noDate || !bigHeader {
		t.Fatalf("the MIME corpora have %d messages (no Date: %v, a header over 8000 octets: %v)", len(out), noDate, bigHeader)
	}
	return out
}

func TestImportMaildir(t *testing.T) {
	env, im := newEnv(t)
	odd := oddMessages(t)
	root := t.TempDir()
	folders := []struct{ dir, name string }{{"", "INBOX"}, {".Work", "Work"}, {".Work.Caf&AOk-", "Work/Café"}, {".Sent", "Sent"}}
	flagSets := []struct {
		info  string
		flags []string
	}{
		{"", nil}, {":2,S", []string{`\Seen`}}, {":2,FRS", []string{`\Answered`, `\Flagged`, `\Seen`}},
		{":2,DT", []string{`\Deleted`, `\Draft`}}, {":2,Sab", []string{`\Seen`, "$Important", "project"}},
	}
	type placed struct {
		folder string
		flags  []string
		date   time.Time
	}
	want := map[string]placed{}
	for _, f := range folders {
		for _, sub := range []string{"cur", "new", "tmp"} {
			if err := os.MkdirAll(filepath.Join(root, f.dir, sub), 0o700); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(root, f.dir, "dovecot-keywords"), []byte("0 $Important\n1 project\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for i, m := range odd {
		f := folders[i%len(folders)]
		fs := flagSets[i%len(flagSets)]
		sub := "cur"
		if fs.info == "" {
			sub = "new"
		}
		date := time.Date(2025, 3, 1+i%28, 12, 0, i%60, 0, time.UTC)
		path := filepath.Join(root, f.dir, sub, fmt.Sprintf("%d.M%dP1.host%s", date.Unix(), i, fs.info))
		if err := os.WriteFile(path, m, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, date, date); err != nil {
			t.Fatal(err)
		}
		if _, dup := want[string(m)]; dup {
			continue // the corpora hold a few identical files: the first placement counts
		}
		want[string(m)] = placed{folder: f.name, flags: fs.flags, date: date}
	}
	sum, err := im.Import(t.Context(), Maildir{Path: root}, "alice@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if int(sum.Copied) > len(odd) || len(sum.Refused) != 0 {
		t.Fatalf("summary %v", sum)
	}
	found := 0
	for _, f := range folders {
		mb, err := env.Store.GetMailbox(t.Context(), env.Alice.ID, f.name)
		if err != nil {
			t.Fatalf("mailbox %s: %v", f.name, err)
		}
		msgs, err := env.Store.ListMessages(t.Context(), mb.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			body := readBody(t, env, m.BlobID)
			w, ok := want[body]
			if !ok {
				t.Fatalf("%s: a message not from the Maildir, or changed (%d octets)", f.name, len(body))
			}
			got := slices.Clone(m.Flags)
			slices.Sort(got)
			wantFlags := slices.Clone(w.flags)
			slices.Sort(wantFlags)
			if w.folder == f.name && !slices.Equal(got, wantFlags) {
				t.Fatalf("%s: flags %v, want %v", f.name, got, wantFlags)
			}
			if w.folder == f.name && !m.InternalDate.Equal(w.date) {
				t.Fatalf("%s: internal date %v, want %v", f.name, m.InternalDate, w.date)
			}
			found++
		}
	}
	if found != int(sum.Copied) || found < len(want) {
		t.Fatalf("%d messages stored, %d distinct in the Maildir, summary %v", found, len(want), sum)
	}
	again, err := im.Import(t.Context(), Maildir{Path: root}, "alice@example.org", "")
	if err != nil || again.Copied != 0 || again.Skipped != int64(len(odd)) {
		t.Fatalf("second run: %v %v", again, err)
	}
}

func readBody(t *testing.T, env *mailenv.Env, blobID string) string {
	t.Helper()
	f, err := env.Blobs.Open(blobID)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMboxReaderLongLines: lines longer than the reader's buffer come in pieces; only a piece
// at the start of a line can be a "From " line or an escaped one, and the blank line before a
// "From " line is the file's.
func TestMboxReaderLongLines(t *testing.T) {
	long := strings.Repeat("y", 40) + "From not a separator " + strings.Repeat("z", 40) + "\n"
	text := "From a Mon Feb  2 03:04:05 2026\nSubject: " + long + "\n>From escaped " + strings.Repeat("w", 30) + "\n\n\n" +
		"From b\n" + long + "\r\n"
	r := &mboxReader{br: bufio.NewReaderSize(strings.NewReader(text), 16)}
	var got []string
	for {
		_, ok, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	want := []string{"Subject: " + long + "\nFrom escaped " + strings.Repeat("w", 30) + "\n\n", long}
	if !slices.Equal(got, want) {
		t.Fatalf("messages %q\nwant %q", got, want)
	}
}
