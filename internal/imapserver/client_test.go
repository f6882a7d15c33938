package imapserver

import (
	"bytes"
	"crypto/tls"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// The client suite: the same scenario, run with clients we did not write.
//
//  1. log in; the capabilities include IMAP4rev1, IDLE, UIDPLUS, MOVE
//  2. LIST "" "*" shows INBOX and the special-use mailboxes
//  3. CREATE Suite/Sub, RENAME it to Suite/Renamed, DELETE it
//  4. APPEND three messages to INBOX (one \Seen), with APPENDUID
//  5. SELECT INBOX: three messages
//  6. FETCH every message: flags, size, envelope subject, body structure, and BODY.PEEK[]
//     byte-identical to what was appended
//  7. SEARCH UNSEEN, SUBJECT, UID SEARCH
//  8. STORE +FLAGS \Flagged, then FETCH FLAGS
//  9. COPY 1 to Archive, MOVE 2 to Trash; STATUS counts them
//  10. STORE \Deleted and EXPUNGE: one message left
//  11. IDLE; another connection APPENDs; the idling client sees EXISTS
//  12. LOGOUT
//
// TestClientSuiteGoIMAP runs it with go-imap v2's imapclient, TestClientSuiteImaplib with
// Python's imaplib (testdata/imaplib_suite.py).

var suiteMessages = []string{
	"From: Ann <ann@example.net>\r\nTo: alice@example.org\r\nSubject: first suite message\r\n" +
		"Date: Mon, 5 Jan 2026 09:00:00 +0000\r\nMessage-ID: <s1@example.net>\r\n\r\nHello Alice.\r\n",
	"From: Bob <bob@example.net>\r\nTo: alice@example.org\r\nSubject: =?UTF-8?Q?gr=C3=BC=C3=9Fe?=\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=b1\r\n\r\n" +
		"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlain text.\r\n" +
		"--b1\r\nContent-Type: text/html\r\n\r\n<p>HTML</p>\r\n--b1--\r\n",
	"From: Cat <cat@example.net>\r\nTo: alice@example.org\r\nSubject: third\r\n\r\nThird body.\r\n",
}

func TestClientSuiteGoIMAP(t *testing.T) {
	h := newHarness(t)
	var mu sync.Mutex
	var exists []uint32
	c, err := imapclient.DialTLS(h.tlsAddr, &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					mu.Lock()
					exists = append(exists, *d.NumMessages)
					mu.Unlock()
				}
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	check := func(step string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
	}

	// 1
	check("login", c.Login("alice@example.org", testPassword).Wait())
	caps := c.Caps()
	for _, want := range []imap.Cap{imap.CapIMAP4rev1, imap.CapIdle, imap.CapUIDPlus, imap.CapMove} {
		if !caps.Has(want) {
			t.Errorf("capability %s missing", want)
		}
	}
	// 2
	list, err := c.List("", "*", nil).Collect()
	check("list", err)
	uses := map[string]imap.MailboxAttr{}
	for _, l := range list {
		uses[l.Mailbox] = ""
		for _, a := range l.Attrs {
			if strings.HasPrefix(string(a), `\`) && a != imap.MailboxAttrHasChildren && a != imap.MailboxAttrHasNoChildren {
				uses[l.Mailbox] = a
			}
		}
	}
	for name, use := range map[string]imap.MailboxAttr{"INBOX": "", "Sent": imap.MailboxAttrSent, "Drafts": imap.MailboxAttrDrafts,
		"Trash": imap.MailboxAttrTrash, "Junk": imap.MailboxAttrJunk, "Archive": imap.MailboxAttrArchive} {
		if got, ok := uses[name]; !ok || got != use {
			t.Errorf("LIST: %s has %q (listed %v), want %q", name, got, ok, use)
		}
	}
	// 3
	check("create", c.Create("Suite/Sub", nil).Wait())
	check("rename", c.Rename("Suite/Sub", "Suite/Renamed", nil).Wait())
	list, err = c.List("", "Suite/*", nil).Collect()
	check("list", err)
	if len(list) != 1 || list[0].Mailbox != "Suite/Renamed" {
		t.Errorf("after rename: %+v", list)
	}
	check("delete", c.Delete("Suite/Renamed").Wait())
	// 4
	for i, text := range suiteMessages {
		opts := &imap.AppendOptions{Time: time.Date(2026, 1, 5+i, 9, 0, 0, 0, time.UTC)}
		if i == 0 {
			opts.Flags = []imap.Flag{imap.FlagSeen}
		}
		cmd := c.Append("INBOX", int64(len(text)), opts)
		if _, err := cmd.Write([]byte(text)); err != nil {
			t.Fatal(err)
		}
		check("append close", cmd.Close())
		data, err := cmd.Wait()
		check("append", err)
		if data.UID != imap.UID(i+1) || data.UIDValidity == 0 {
			t.Errorf("APPENDUID %+v", data)
		}
	}
	// 5
	sel, err := c.Select("INBOX", nil).Wait()
	check("select", err)
	if sel.NumMessages != 3 {
		t.Fatalf("SELECT: %d messages", sel.NumMessages)
	}
	// 6
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3), &imap.FetchOptions{
		UID: true, Flags: true, RFC822Size: true, Envelope: true, InternalDate: true,
		BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
		BodySection:   []*imap.FetchItemBodySection{{Peek: true}},
	}).Collect()
	check("fetch", err)
	subjects := []string{"first suite message", "grüße", "third"}
	for i, m := range msgs {
		if got := m.FindBodySection(&imap.FetchItemBodySection{}); !bytes.Equal(got, []byte(suiteMessages[i])) {
			t.Errorf("message %d: BODY[] differs:\n%q\n%q", i+1, got, suiteMessages[i])
		}
		if m.RFC822Size != int64(len(suiteMessages[i])) || m.Envelope.Subject != subjects[i] {
			t.Errorf("message %d: size %d subject %q", i+1, m.RFC822Size, m.Envelope.Subject)
		}
		if !m.InternalDate.Equal(time.Date(2026, 1, 5+i, 9, 0, 0, 0, time.UTC)) {
			t.Errorf("message %d: internal date %v", i+1, m.InternalDate)
		}
	}
	if mp, ok := msgs[1].BodyStructure.(*imap.BodyStructureMultiPart); !ok || !strings.EqualFold(mp.Subtype, "alternative") || len(mp.Children) != 2 {
		t.Errorf("message 2 structure %#v", msgs[1].BodyStructure)
	}
	if !slices.Contains(msgs[0].Flags, imap.FlagSeen) || slices.Contains(msgs[1].Flags, imap.FlagSeen) {
		t.Errorf("flags %v %v", msgs[0].Flags, msgs[1].Flags)
	}
	// 7
	unseen, err := c.Search(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	check("search", err)
	if got := unseen.AllSeqNums(); !slices.Equal(got, []uint32{2, 3}) {
		t.Errorf("SEARCH UNSEEN: %v", got)
	}
	bySubject, err := c.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "THIRD"}}}, nil).Wait()
	check("uid search", err)
	if got := bySubject.AllUIDs(); !slices.Equal(got, []imap.UID{3}) {
		t.Errorf("UID SEARCH SUBJECT: %v", got)
	}
	body, err := c.Search(&imap.SearchCriteria{Body: []string{"plain TEXT"}}, nil).Wait()
	check("search body", err)
	if got := body.AllSeqNums(); !slices.Equal(got, []uint32{2}) {
		t.Errorf("SEARCH BODY: %v", got)
	}
	// 8
	check("store", c.Store(imap.SeqSetNum(3), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close())
	msgs, err = c.Fetch(imap.SeqSetNum(3), &imap.FetchOptions{Flags: true}).Collect()
	check("fetch flags", err)
	if !slices.Equal(msgs[0].Flags, []imap.Flag{`\Recent`, imap.FlagFlagged}) {
		t.Errorf("flags after STORE: %v", msgs[0].Flags)
	}
	// 9
	copied, err := c.Copy(imap.SeqSetNum(1), "Archive").Wait()
	check("copy", err)
	if copied.UIDValidity == 0 || copied.DestUIDs.String() != "1" {
		t.Errorf("COPYUID %+v", copied)
	}
	moved, err := c.Move(imap.SeqSetNum(2), "Trash").Wait()
	check("move", err)
	if moved.SourceUIDs.String() != "2" {
		t.Errorf("MOVE COPYUID %+v", moved)
	}
	for _, name := range []string{"Archive", "Trash"} {
		st, err := c.Status(name, &imap.StatusOptions{NumMessages: true, UIDNext: true}).Wait()
		check("status", err)
		if *st.NumMessages != 1 || st.UIDNext != 2 {
			t.Errorf("STATUS %s: %+v", name, st)
		}
	}
	// 10
	check("store deleted", c.Store(imap.SeqSetNum(1), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}, Silent: true}, nil).Close())
	expunged, err := c.Expunge().Collect()
	check("expunge", err)
	if !slices.Equal(expunged, []uint32{1}) || c.Mailbox().NumMessages != 1 {
		t.Errorf("EXPUNGE: %v, %d left", expunged, c.Mailbox().NumMessages)
	}
	// 11
	idle, err := c.Idle()
	check("idle", err)
	other, err := imapclient.DialInsecure(h.addr, nil)
	check("dial", err)
	defer other.Close()
	check("login 2", other.Login("alice@example.org", testPassword).Wait())
	cmd := other.Append("INBOX", int64(len(suiteMessages[2])), nil)
	cmd.Write([]byte(suiteMessages[2]))
	check("append 2", cmd.Close())
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Second); ; time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := slices.Contains(exists, 2)
		mu.Unlock()
		if n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no EXISTS during IDLE within a second (saw %v)", exists)
		}
	}
	check("idle close", idle.Close())
	check("idle wait", idle.Wait())
	// 12
	check("logout", c.Logout().Wait())
}

// TestClientSuiteImaplib runs the suite with Python's imaplib.
func TestClientSuiteImaplib(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not installed: run `make test`, which installs the test dependencies")
	}
	h := newHarness(t)
	dir := t.TempDir()
	for i, m := range suiteMessages {
		if err := os.WriteFile(filepath.Join(dir, "m"+string(rune('1'+i))), []byte(m), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	host, port, _ := strings.Cut(h.addr, ":")
	tlsHost, tlsPort, _ := strings.Cut(h.tlsAddr, ":")
	cmd := exec.Command(python, "testdata/imaplib_suite.py", host, port, tlsHost, tlsPort, "alice@example.org", testPassword, dir)
	out, err := cmd.CombinedOutput()
	t.Logf("imaplib suite:\n%s", out)
	if err != nil {
		t.Fatalf("imaplib suite failed: %v", err)
	}
}
