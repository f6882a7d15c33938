package test

import (
	"bufio"
	"context"
	"fmt"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// mbsync's account on the server under test.
const (
	mbsyncUser     = "alice@example.org"
	mbsyncPassword = "correct horse battery"
	mbsyncMessages = 1000
)

// TestMbsyncTwoWay: mbsync (isync) syncs a 1,000-message account two ways with a local Maildir;
// then both sides change (flags, deletions, new messages, a move between folders, one message
// flagged on one side and read on the other) and a second sync converges: the same messages,
// by Message-ID, in the same folders with the same flags on both sides, none lost, none twice,
// and each change where it belongs. A third sync changes nothing.
func TestMbsyncTwoWay(t *testing.T) {
	t.Parallel()
	mbsync := requireTool(t, "mbsync")
	s := NewServer(t, "")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI(mbsyncPassword+"\n", "user", "add", mbsyncUser, "--password-stdin")
	deliverNumbered(t, s.SMTP, mbsyncMessages)

	local := filepath.Join(t.TempDir(), "mail")
	rc := writeMbsyncConfig(t, s.IMAP, local)
	runMbsync(t, mbsync, rc)
	want := map[string]map[string]string{"INBOX": {}}
	for i := 1; i <= mbsyncMessages; i++ {
		want["INBOX"][msgID(i)] = ""
	}
	checkSides(t, s.IMAP, local, want, "first sync")

	c := loginIMAP(t, s.IMAP)
	defer c.Close()
	uids := serverUIDs(t, c, "INBOX")
	local1 := localFiles(t, filepath.Join(local, "INBOX"))

	// Server side: read 1-100, flag 101-110 and 700, delete 201-220, move 301-305 to Archive,
	// five new messages by SMTP and five by APPEND (one \Answered).
	storeFlag(t, c, uids, numbers(1, 100), imap.FlagSeen)
	storeFlag(t, c, uids, append(numbers(101, 110), 700), imap.FlagFlagged)
	storeFlag(t, c, uids, numbers(201, 220), imap.FlagDeleted)
	if err := c.UIDExpunge(uidSet(uids, numbers(201, 220))).Close(); err != nil {
		t.Fatalf("UID EXPUNGE: %v", err)
	}
	if _, err := c.Move(uidSet(uids, numbers(301, 305)), "Archive").Wait(); err != nil {
		t.Fatalf("MOVE: %v", err)
	}
	for i := 1; i <= 5; i++ {
		sendPlain(t, s.SMTP, "sender@remote.example", mbsyncUser, mbsyncMessage("srv-smtp-"+fmt.Sprint(i)))
		var flags []imap.Flag
		if i == 1 {
			flags = []imap.Flag{imap.FlagAnswered}
		}
		imapAppend(t, c, "INBOX", mbsyncMessage("srv-append-"+fmt.Sprint(i)), flags)
	}

	// Near side, the Maildir, as a mail reader changes it: read 501-550 and 700, delete
	// 601-620, move 801-805 to Archive (without mbsync's ",U=" in the new name, as the Maildir
	// convention wants), ten new messages, one of them flagged.
	for _, i := range append(numbers(501, 550), 700) {
		setLocalFlags(t, local1[msgID(i)], "S")
	}
	for _, i := range numbers(601, 620) {
		if err := os.Remove(local1[msgID(i)]); err != nil {
			t.Fatal(err)
		}
	}
	for _, i := range numbers(801, 805) {
		from := local1[msgID(i)]
		name := filepath.Base(from)
		if at := strings.Index(name, ",U="); at >= 0 {
			end := strings.IndexAny(name[at+1:], ",:")
			name = name[:at] + name[at+1+end:]
		}
		if err := os.Rename(from, filepath.Join(local, "Archive", "cur", name)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= 10; i++ {
		dir, name := "new", fmt.Sprintf("%d.M%dP1.mailreader", time.Now().Unix(), i)
		if i == 1 {
			dir, name = "cur", name+":2,F"
		}
		data := strings.ReplaceAll(mbsyncMessage("loc-new-"+fmt.Sprint(i)), "\r\n", "\n")
		if err := os.WriteFile(filepath.Join(local, "INBOX", dir, name), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	runMbsync(t, mbsync, rc)
	want = map[string]map[string]string{"INBOX": {}, "Archive": {}}
	for i := 1; i <= mbsyncMessages; i++ {
		var flags string
		switch {
		case i == 700:
			flags = `\Flagged \Seen`
		case i <= 100, i >= 501 && i <= 550:
			flags = `\Seen`
		case i >= 101 && i <= 110:
			flags = `\Flagged`
		}
		switch {
		case i >= 201 && i <= 220, i >= 601 && i <= 620:
		case i >= 301 && i <= 305, i >= 801 && i <= 805:
			want["Archive"][msgID(i)] = flags
		default:
			want["INBOX"][msgID(i)] = flags
		}
	}
	for i := 1; i <= 5; i++ {
		want["INBOX"]["srv-smtp-"+fmt.Sprint(i)+"@test.example"] = ""
		want["INBOX"]["srv-append-"+fmt.Sprint(i)+"@test.example"] = ""
	}
	want["INBOX"]["srv-append-1@test.example"] = `\Answered`
	for i := 1; i <= 10; i++ {
		want["INBOX"]["loc-new-"+fmt.Sprint(i)+"@test.example"] = ""
	}
	want["INBOX"]["loc-new-1@test.example"] = `\Flagged`
	checkSides(t, s.IMAP, local, want, "second sync")

	runMbsync(t, mbsync, rc)
	checkSides(t, s.IMAP, local, want, "third sync")
}

// msgID is the Message-ID (without angle brackets) of message i of the account.
func msgID(i int) string { return fmt.Sprintf("m%04d@test.example", i) }

// mbsyncMessage is a small message whose Message-ID is <id@test.example>.
func mbsyncMessage(id string) string {
	return "From: Sender <sender@remote.example>\r\nTo: " + mbsyncUser + "\r\nSubject: message " + id +
		"\r\nDate: Mon, 5 Jan 2026 09:00:00 +0000\r\nMessage-ID: <" + id + "@test.example>\r\n\r\n" +
		"Body of " + id + ".\r\n"
}

func numbers(from, to int) []int {
	var s []int
	for i := from; i <= to; i++ {
		s = append(s, i)
	}
	return s
}

// deliverNumbered delivers messages 1..n by SMTP, from a few connections at once.
func deliverNumbered(t *testing.T, addr string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			c, err := smtp.Dial(addr)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			for i := range next {
				id := fmt.Sprintf("m%04d", i)
				if err := smtpTransaction(c, "sender@remote.example", mbsyncUser, mbsyncMessage(id)); err != nil {
					errs <- fmt.Errorf("message %d: %w", i, err)
					return
				}
			}
			if err := c.Quit(); err != nil {
				errs <- err
			}
		})
	}
	for i := 1; i <= n; i++ {
		select {
		case next <- i:
		case err := <-errs:
			t.Fatal(err)
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// smtpTransaction runs one mail transaction on c.
func smtpTransaction(c *smtp.Client, from, to, body string) error {
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

// writeMbsyncConfig writes an mbsyncrc syncing every folder of the account both ways with the
// Maildir tree under local (INBOX in local/INBOX), creating and expunging on both sides.
func writeMbsyncConfig(t *testing.T, addr, local string) string {
	t.Helper()
	host, port, _ := strings.Cut(addr, ":")
	rc := filepath.Join(t.TempDir(), "mbsyncrc")
	if err := os.MkdirAll(local, 0o700); err != nil {
		t.Fatal(err)
	}
	// Plaintext LOGIN: the server allows it on loopback; mbsync warns that the password is
	// sent in the clear, which is true and harmless here.
	cfg := fmt.Sprintf(`IMAPAccount posthorn
Host %s
Port %s
User %s
Pass "%s"
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account posthorn

MaildirStore local
Path %s/
Inbox %s/INBOX
SubFolders Verbatim

Channel sync
Far :remote:
Near :local:
Patterns *
Create Both
Expunge Both
SyncState *
`, host, port, mbsyncUser, mbsyncPassword, local, local)
	if err := os.WriteFile(rc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return rc
}

// runMbsync runs one sync of every channel; mbsync must succeed.
func runMbsync(t *testing.T, mbsync, rc string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, mbsync, "-c", rc, "-a").CombinedOutput()
	if err != nil {
		t.Fatalf("mbsync: %v\n%s", err, out)
	}
	t.Logf("mbsync:\n%s", out)
}

func loginIMAP(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(mbsyncUser, mbsyncPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// serverUIDs selects mailbox and returns the UID of each message by message number (1 for
// msgID(1)); messages with other Message-IDs are left out.
func serverUIDs(t *testing.T, c *imapclient.Client, mailbox string) map[int]imap.UID {
	t.Helper()
	msgs := serverMailbox(t, c, mailbox)
	uids := map[int]imap.UID{}
	for id, m := range msgs {
		var i int
		if _, err := fmt.Sscanf(id, "m%04d@test.example", &i); err == nil {
			uids[i] = m.uid
		}
	}
	return uids
}

type serverMessage struct {
	uid   imap.UID
	flags string
}

// serverMailbox selects mailbox and returns its messages by Message-ID. A Message-ID seen twice
// fails the test.
func serverMailbox(t *testing.T, c *imapclient.Client, mailbox string) map[string]serverMessage {
	t.Helper()
	sel, err := c.Select(mailbox, nil).Wait()
	if err != nil {
		t.Fatalf("SELECT %s: %v", mailbox, err)
	}
	msgs := map[string]serverMessage{}
	if sel.NumMessages == 0 {
		return msgs
	}
	fetched, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatalf("FETCH in %s: %v", mailbox, err)
	}
	for _, m := range fetched {
		id := strings.Trim(m.Envelope.MessageID, "<>")
		if _, dup := msgs[id]; dup {
			t.Errorf("server: %s twice in %s", id, mailbox)
		}
		var flags []string
		for _, f := range m.Flags {
			flags = append(flags, string(f))
		}
		msgs[id] = serverMessage{uid: m.UID, flags: normalFlags(flags)}
	}
	return msgs
}

// normalFlags returns the system flags mbsync syncs, sorted, separated by spaces.
func normalFlags(flags []string) string {
	var kept []string
	for _, f := range flags {
		switch strings.ToLower(f) {
		case `\seen`, `\flagged`, `\answered`, `\draft`, `\deleted`:
			kept = append(kept, f)
		}
	}
	sort.Strings(kept)
	return strings.Join(kept, " ")
}

// uidSet returns the UIDs of the numbered messages.
func uidSet(uids map[int]imap.UID, nums []int) imap.UIDSet {
	var set imap.UIDSet
	for _, i := range nums {
		set.AddNum(uids[i])
	}
	return set
}

func storeFlag(t *testing.T, c *imapclient.Client, uids map[int]imap.UID, nums []int, flag imap.Flag) {
	t.Helper()
	err := c.Store(uidSet(uids, nums), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{flag}, Silent: true}, nil).Close()
	if err != nil {
		t.Fatalf("STORE +FLAGS %s: %v", flag, err)
	}
}

func imapAppend(t *testing.T, c *imapclient.Client, mailbox, msg string, flags []imap.Flag) {
	t.Helper()
	cmd := c.Append(mailbox, int64(len(msg)), &imap.AppendOptions{Flags: flags})
	if _, err := cmd.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatalf("APPEND: %v", err)
	}
}

// maildirFlags maps the letters of a Maildir file name's info (":2,FS") to IMAP flags.
var maildirFlags = map[rune]string{'D': `\Draft`, 'F': `\Flagged`, 'R': `\Answered`, 'S': `\Seen`, 'T': `\Deleted`}

// localFiles returns the files of the Maildir folder dir (cur and new) by Message-ID. A
// Message-ID seen twice fails the test.
func localFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	for _, sub := range []string{"cur", "new"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			path := filepath.Join(dir, sub, e.Name())
			id := fileMessageID(t, path)
			if _, dup := files[id]; dup {
				t.Errorf("Maildir: %s twice in %s", id, dir)
			}
			files[id] = path
		}
	}
	return files
}

// fileMessageID reads the Message-ID header of a message file, without angle brackets.
func fileMessageID(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			break
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(name, "Message-ID") {
			return strings.Trim(strings.TrimSpace(value), "<>")
		}
	}
	t.Fatalf("%s: no Message-ID", path)
	return ""
}

// localFlags returns the flags of a Maildir file name, as normalFlags writes them.
func localFlags(name string) string {
	_, info, ok := strings.Cut(name, ":2,")
	if !ok {
		return ""
	}
	var flags []string
	for _, r := range info {
		if f, ok := maildirFlags[r]; ok {
			flags = append(flags, f)
		}
	}
	return normalFlags(flags)
}

// setLocalFlags adds the flag letters add to a Maildir file's name, as a mail reader does:
// letters in ASCII order, in cur/.
func setLocalFlags(t *testing.T, path, add string) {
	t.Helper()
	dir, name := filepath.Split(path)
	base, info, _ := strings.Cut(name, ":2,")
	letters := []rune(info + add)
	slices.Sort(letters)
	letters = slices.Compact(letters)
	to := filepath.Join(filepath.Dir(filepath.Clean(dir)), "cur", base+":2,"+string(letters))
	if err := os.Rename(path, to); err != nil {
		t.Fatal(err)
	}
}

// checkSides compares both sides with want (folder -> Message-ID -> flags): every folder
// present on either side, and nothing else, no message twice on either side.
func checkSides(t *testing.T, addr, local string, want map[string]map[string]string, when string) {
	t.Helper()
	c := loginIMAP(t, addr)
	defer c.Close()
	folders, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatalf("LIST: %v", err)
	}
	serverSeen := map[string]string{} // Message-ID -> folder, across folders
	localSeen := map[string]string{}
	for _, f := range folders {
		name := f.Mailbox
		server := map[string]string{}
		for id, m := range serverMailbox(t, c, name) {
			server[id] = m.flags
			if other, dup := serverSeen[id]; dup {
				t.Errorf("%s: server has %s in %s and %s", when, id, other, name)
			}
			serverSeen[id] = name
		}
		near := map[string]string{}
		for id, path := range localFiles(t, filepath.Join(local, name)) {
			near[id] = localFlags(filepath.Base(path))
			if other, dup := localSeen[id]; dup {
				t.Errorf("%s: Maildir has %s in %s and %s", when, id, other, name)
			}
			localSeen[id] = name
		}
		expected := want[name]
		if expected == nil {
			expected = map[string]string{}
		}
		compareFolder(t, when+", server "+name, server, expected)
		compareFolder(t, when+", Maildir "+name, near, expected)
	}
	listed := func(name string) bool {
		return slices.ContainsFunc(folders, func(d *imap.ListData) bool { return d.Mailbox == name })
	}
	for name := range want {
		if !listed(name) {
			t.Errorf("%s: folder %s missing on the server", when, name)
		}
	}
	entries, err := os.ReadDir(local)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() && !listed(e.Name()) {
			t.Errorf("%s: Maildir folder %s is not on the server", when, e.Name())
		}
	}
}

// compareFolder reports the differences between got and want, a few of each kind.
func compareFolder(t *testing.T, where string, got, want map[string]string) {
	t.Helper()
	var missing, extra, flags []string
	for id, f := range want {
		g, ok := got[id]
		switch {
		case !ok:
			missing = append(missing, id)
		case g != f:
			flags = append(flags, fmt.Sprintf("%s has %q, want %q", id, g, f))
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			extra = append(extra, id)
		}
	}
	for _, d := range []struct {
		what string
		list []string
	}{{"missing", missing}, {"unexpected", extra}, {"wrong flags", flags}} {
		if len(d.list) == 0 {
			continue
		}
		sort.Strings(d.list)
		t.Errorf("%s: %d %s: %s", where, len(d.list), d.what, strings.Join(d.list[:min(5, len(d.list))], "; "))
	}
	if len(got) != len(want) || len(missing)+len(extra)+len(flags) > 0 {
		t.Logf("%s: %d messages, want %d", where, len(got), len(want))
	}
}
