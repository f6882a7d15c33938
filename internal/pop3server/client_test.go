package pop3server

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// variedMessage is message n of a test maildrop: sizes from a few hundred octets to about
// 70 KiB (beyond the 32 KiB read buffer), lines that start with "." (byte-stuffing), a line
// that is only ".", lines up to 998 octets (RFC 5322 §2.1.1), CRLF line ends.
func variedMessage(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "From: Sender %d <s%d@example.net>\r\nTo: alice@example.org\r\nSubject: varied %d\r\n"+
		"Message-ID: <varied%d@example.net>\r\n\r\n", n, n, n, n)
	lines := 5 + n*37%400
	for i := 0; i < lines; i++ {
		switch {
		case i%17 == 3:
			b.WriteString(".\r\n")
		case i%11 == 5:
			fmt.Fprintf(&b, "..dots %d.%d\r\n", n, i)
		case i%13 == 7:
			b.WriteString(strings.Repeat(strconv.Itoa(i%10), 998) + "\r\n")
		default:
			fmt.Fprintf(&b, "Line %d of message %d, some text to fill it.\r\n", i, n)
		}
	}
	return b.String()
}

// TestPoplibDownload: Python's poplib downloads a 1,000-message maildrop over STLS; every
// message comes back byte-identical, with the size LIST said, under the UIDL derived from its
// UID. A second run deletes them all, and the INBOX is empty afterwards.
func TestPoplibDownload(t *testing.T) {
	if testing.Short() {
		t.Skip("delivers 1,000 messages")
	}
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Fatal("python3 is not installed: run `make test`, which installs the test dependencies")
	}
	h := newHarness(t, func(s *Server) { s.AllowInsecureAuth = false })
	const count = 1000
	byUID := map[uint32]string{}
	for n := 1; n <= count; n++ {
		text := variedMessage(n)
		byUID[h.Deliver(h.Alice, "INBOX", text)] = text
	}
	host, port, _ := net.SplitHostPort(h.addr)
	download := func(extra ...string) string {
		dir := t.TempDir()
		args := append([]string{"testdata/poplib_download.py", host, port, "alice@example.org", testPassword, dir}, extra...)
		out, err := exec.Command(python, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("poplib: %v\n%s", err, out)
		}
		t.Logf("poplib: %s", out)
		return dir
	}
	dir := download()
	manifest, err := os.ReadFile(filepath.Join(dir, "LIST"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(manifest)), "\n")
	if len(lines) != count {
		t.Fatalf("%d messages downloaded, want %d", len(lines), count)
	}
	for _, line := range lines {
		uidl, size, _ := strings.Cut(line, " ")
		uid, err := strconv.ParseUint(uidl[8:], 16, 32)
		if err != nil || len(uidl) != 16 {
			t.Fatalf("unique-id %q", uidl)
		}
		want, ok := byUID[uint32(uid)]
		if !ok {
			t.Fatalf("unique-id %s names no delivered message", uidl)
		}
		if size != strconv.Itoa(len(want)) {
			t.Errorf("UID %d: LIST size %s, message has %d octets", uid, size, len(want))
		}
		got, err := os.ReadFile(filepath.Join(dir, uidl))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, []byte(want)) {
			t.Fatalf("UID %d differs: got %d octets, want %d", uid, len(got), len(want))
		}
		delete(byUID, uint32(uid))
	}
	download("--delete")
	mb, err := h.Store.GetMailbox(context.Background(), h.Alice.ID, "INBOX")
	if err != nil || mb.MessageCount != 0 {
		t.Fatalf("INBOX after poplib deleted everything: %+v, %v", mb, err)
	}
}
