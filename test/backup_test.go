package test

import (
	"bytes"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/smtp"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"posthorn/internal/backup"
)

const (
	backupUser     = "alice@example.org"
	backupPassword = "correct horse battery"
)

// backupServer starts a server with the account backupUser.
func backupServer(t *testing.T) *Server {
	t.Helper()
	s := NewServer(t, "[log]\nlevel = \"warn\"\n")
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI(backupPassword+"\n", "user", "add", backupUser, "--password-stdin")
	s.Start()
	return s
}

// deliver sends one message over SMTP.
func deliver(addr, body string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := smtpTransaction(c, "sender@remote.example", backupUser, body); err != nil {
		return err
	}
	return c.Quit()
}

// backupMessage is message i, with size bytes of text that compresses poorly.
func backupMessage(i, size int) string {
	rng := rand.New(rand.NewPCG(uint64(i), 7))
	var b strings.Builder
	fmt.Fprintf(&b, "From: sender@remote.example\r\nTo: %s\r\nSubject: backup %d\r\nMessage-ID: <b%d@remote.example>\r\n\r\n", backupUser, i, i)
	for b.Len() < size {
		for range 76 {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		b.WriteString("\r\n")
	}
	return b.String()
}

// deliverMany sends messages first..first+n-1 over workers connections.
func deliverMany(t *testing.T, addr string, first, n, size, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	next := make(chan int)
	for range workers {
		wg.Go(func() {
			for i := range next {
				if err := deliver(addr, backupMessage(i, size)); err != nil {
					errs <- fmt.Errorf("message %d: %w", i, err)
					return
				}
			}
		})
	}
	for i := first; i < first+n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// imapState is what a client sees of INBOX.
type imapState struct {
	uidValidity   uint32
	highestModSeq uint64
	messages      map[imap.UID]imapMessage
}

type imapMessage struct {
	modSeq uint64
	flags  string // sorted, \Recent left out (it belongs to a session)
	body   []byte
}

func loginBackupIMAP(t *testing.T, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(backupUser, backupPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func flagString(flags []imap.Flag) string {
	var out []string
	for _, f := range flags {
		if !strings.EqualFold(string(f), `\Recent`) {
			out = append(out, string(f))
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// readIMAP selects INBOX with CONDSTORE and fetches every message's UID, MODSEQ, flags and body.
func readIMAP(t *testing.T, addr string) imapState {
	t.Helper()
	c := loginBackupIMAP(t, addr)
	defer c.Close()
	sel, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait()
	if err != nil {
		t.Fatal(err)
	}
	st := imapState{uidValidity: sel.UIDValidity, highestModSeq: sel.HighestModSeq, messages: map[imap.UID]imapMessage{}}
	if sel.NumMessages == 0 {
		return st
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true, Flags: true, ModSeq: true,
		BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if len(m.BodySection) != 1 {
			t.Fatalf("UID %d: %d body sections", m.UID, len(m.BodySection))
		}
		st.messages[m.UID] = imapMessage{modSeq: m.ModSeq, flags: flagString(m.Flags), body: m.BodySection[0].Bytes}
	}
	return st
}

// flagLoad sets and clears flags on the messages with UIDs 1..n over IMAP until stop closes,
// recording every state each message had (MODSEQ and flags, as FETCH shows it after the STORE).
func flagLoad(t *testing.T, addr string, n int, stop <-chan struct{}, history map[imap.UID][]imapMessage) error {
	c := loginBackupIMAP(t, addr)
	defer c.Close()
	if _, err := c.Select("INBOX", &imap.SelectOptions{CondStore: true}).Wait(); err != nil {
		return err
	}
	flags := []imap.Flag{imap.FlagSeen, imap.FlagFlagged, imap.FlagAnswered, "$Label1"}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		uid := imap.UID(1 + i%n)
		op := imap.StoreFlagsAdd
		if i%3 == 2 {
			op = imap.StoreFlagsDel
		}
		set := imap.UIDSetNum(uid)
		if err := c.Store(set, &imap.StoreFlags{Op: op, Silent: true, Flags: []imap.Flag{flags[i%len(flags)]}}, nil).Close(); err != nil {
			return fmt.Errorf("STORE %d: %w", uid, err)
		}
		got, err := c.Fetch(set, &imap.FetchOptions{UID: true, Flags: true, ModSeq: true}).Collect()
		if err != nil || len(got) != 1 {
			return fmt.Errorf("FETCH %d after STORE: %v, %v", uid, len(got), err)
		}
		history[uid] = append(history[uid], imapMessage{modSeq: got[0].ModSeq, flags: flagString(got[0].Flags)})
	}
}

// TestBackupRoundTripUnderLoad: a backup taken while SMTP delivers and IMAP changes flags,
// restored into an empty directory, shows the same UIDVALIDITY, UIDs, flags, MODSEQs and
// bodies over IMAP, each message in a state it had; no message delivered before the backup
// began is missing.
func TestBackupRoundTripUnderLoad(t *testing.T) {
	s := backupServer(t)
	const before = 300
	deliverMany(t, s.SMTP, 0, before, 3000, 4)
	initial := readIMAP(t, s.IMAP)
	if len(initial.messages) != before {
		t.Fatalf("%d messages before the backup, want %d", len(initial.messages), before)
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	history := map[imap.UID][]imapMessage{}
	var flagErr, smtpErr error
	delivered := 0
	wg.Go(func() { flagErr = flagLoad(t, s.IMAP, 50, stop, history) })
	wg.Go(func() {
		for i := before; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if smtpErr = deliver(s.SMTP, backupMessage(i, 2000)); smtpErr != nil {
				return
			}
			delivered++
		}
	})
	archive := filepath.Join(t.TempDir(), "backup.tar.zst")
	out := s.MustCLI("", "backup", "create", archive)
	close(stop)
	wg.Wait()
	if flagErr != nil || smtpErr != nil {
		t.Fatalf("load: IMAP %v, SMTP %v", flagErr, smtpErr)
	}
	t.Logf("%s(during it: %d messages delivered, %d flag changes)", out, delivered, countStates(history))
	if !strings.Contains(out, " entries, ") {
		t.Errorf("backup create printed %q, want a summary", out)
	}
	if out := s.MustCLI("", "backup", "verify", archive); !strings.HasPrefix(out, "ok ") {
		t.Errorf("backup verify printed %q", out)
	}

	live := readIMAP(t, s.IMAP)
	for uid, m := range initial.messages {
		history[uid] = append([]imapMessage{m}, history[uid]...)
	}
	for uid, m := range live.messages {
		history[uid] = append(history[uid], m)
	}

	r := NewServer(t, "[log]\nlevel = \"warn\"\n")
	if out := r.MustCLI("", "restore", archive, "--data", filepath.Join(r.Dir, "data")); !strings.HasPrefix(out, "restored ") {
		t.Errorf("restore printed %q", out)
	}
	r.Start()
	restored := readIMAP(t, r.IMAP)

	if restored.uidValidity != live.uidValidity {
		t.Errorf("UIDVALIDITY %d after the restore, %d before", restored.uidValidity, live.uidValidity)
	}
	if restored.highestModSeq > live.highestModSeq || restored.highestModSeq < initial.highestModSeq {
		t.Errorf("HIGHESTMODSEQ %d after the restore, want between %d (before the backup) and %d (after it)",
			restored.highestModSeq, initial.highestModSeq, live.highestModSeq)
	}
	if len(restored.messages) < before {
		t.Errorf("%d messages restored, want at least the %d delivered before the backup", len(restored.messages), before)
	}
	for uid, got := range restored.messages {
		want, ok := live.messages[uid]
		if !ok {
			t.Errorf("UID %d restored, unknown to the server", uid)
			continue
		}
		if !bytes.Equal(got.body, want.body) {
			t.Errorf("UID %d: restored body differs (%d bytes, want %d)", uid, len(got.body), len(want.body))
		}
		if got.modSeq > restored.highestModSeq {
			t.Errorf("UID %d: MODSEQ %d above HIGHESTMODSEQ %d", uid, got.modSeq, restored.highestModSeq)
		}
		if !slices.ContainsFunc(history[uid], func(h imapMessage) bool { return h.modSeq == got.modSeq && h.flags == got.flags }) {
			t.Errorf("UID %d: restored MODSEQ %d flags %q, a state it never had (states: %v)", uid, got.modSeq, got.flags, states(history[uid]))
		}
	}
	if out := r.MustCLI("", "check"); out != "ok\n" {
		t.Errorf("check of the restored data directory: %q", out)
	}
	if err := r.Stop(); err != nil {
		t.Errorf("restored server: %v", err)
	}
}

func countStates(h map[imap.UID][]imapMessage) int {
	n := 0
	for _, s := range h {
		n += len(s)
	}
	return n
}

func states(h []imapMessage) string {
	var out []string
	for _, m := range h {
		out = append(out, fmt.Sprintf("%d %q", m.modSeq, m.flags))
	}
	return strings.Join(out, ", ")
}

// TestBackupVerifyFlippedByte: one byte flipped in the middle of the archive fails verify and
// restore, and the failed restore leaves no data directory.
func TestBackupVerifyFlippedByte(t *testing.T) {
	s := backupServer(t)
	deliverMany(t, s.SMTP, 0, 50, 4000, 4)
	archive := filepath.Join(t.TempDir(), "backup.tar.zst")
	s.MustCLI("", "backup", "create", archive)
	data, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0x01
	damaged := filepath.Join(t.TempDir(), "damaged.tar.zst")
	if err := os.WriteFile(damaged, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := s.CLI("", "backup", "verify", damaged)
	if code == 0 {
		t.Fatalf("verify accepted an archive with a flipped byte: %s", out)
	}
	t.Logf("verify: %s", errOut)
	dir := filepath.Join(t.TempDir(), "restored")
	if _, errOut, code := s.CLI("", "restore", damaged, "--data", dir); code == 0 {
		t.Fatal("restore accepted an archive with a flipped byte")
	} else if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("the failed restore (%s) left %s: %v", strings.TrimSpace(errOut), dir, err)
	}
}

// TestBackupKilled: SIGKILL in the middle of backup create leaves no archive (what it leaves
// fails verify), and the server goes on serving; a second backup then succeeds. It also
// measures the peak RSS of a backup of a few thousand messages.
func TestBackupKilled(t *testing.T) {
	s := backupServer(t)
	const n = 3000
	deliverMany(t, s.SMTP, 0, n, 20000, 8)
	dir := t.TempDir()
	archive := filepath.Join(dir, "backup.tar.zst")

	cmd := exec.Command(binary, "-c", s.Config, "backup", "create", archive)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partial := archive + ".partial"
	deadline := time.Now().Add(30 * time.Second)
	for {
		if info, err := os.Stat(partial); err == nil && info.Size() > 0 {
			break
		}
		if _, err := os.Stat(archive); err == nil || time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("backup create ended (or never wrote) before the kill: make the data set larger\n%s", stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if _, err := os.Stat(archive); !os.IsNotExist(err) {
		t.Fatalf("after SIGKILL the archive exists: %v", err)
	}
	for _, f := range []string{archive, partial} {
		if _, _, code := s.CLI("", "backup", "verify", f); code == 0 {
			t.Errorf("verify accepted %s after the kill", f)
		}
	}

	// The server still takes and serves mail.
	if err := deliver(s.SMTP, backupMessage(n, 500)); err != nil {
		t.Fatalf("delivery after the killed backup: %v", err)
	}
	if got := len(readIMAP(t, s.IMAP).messages); got != n+1 {
		t.Fatalf("%d messages after the killed backup, want %d", got, n+1)
	}

	// A second backup overwrites the leftover .partial. Its peak memory is measured by
	// /usr/bin/time: the rusage of a child of this process would count this process's own
	// memory, which the child shares until it executes the program.
	out := s.peakRSS("backup", "create", archive)
	info, err := os.Stat(archive)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("backup of %d messages of 20 kB, archive %d bytes: %s", n+1, info.Size(), out)
	t.Logf("verify: %s", s.peakRSS("backup", "verify", archive))
	t.Logf("for comparison, check: %s", s.peakRSS("check"))
	if leftovers, _ := filepath.Glob(filepath.Join(s.Dir, "data", ".backup-snapshot-*")); len(leftovers) > 0 {
		t.Errorf("snapshot files left in the data directory: %v", leftovers)
	}
}

// peakRSS runs posthorn with the config under /usr/bin/time and returns its output and the
// peak resident set size; a backup that streams stays far below the data's size.
func (s *Server) peakRSS(args ...string) string {
	t := s.t
	t.Helper()
	time := requireTool(t, "time")
	cmd := exec.Command(time, append([]string{"-f", "peak RSS %M KiB", binary, "-c", s.Config}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("posthorn %v: %v\n%s", args, err, out)
	}
	var kib int
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if _, err := fmt.Sscanf(lines[len(lines)-1], "peak RSS %d KiB", &kib); err != nil {
		t.Fatalf("posthorn %v under time: %v\n%s", args, err, out)
	}
	if kib > 100<<10 {
		t.Errorf("posthorn %v: peak RSS %d KiB: more than streaming needs", args, kib)
	}
	return strings.Join(lines, "; ")
}

// TestVersionAndNewerSchema: posthorn version prints the program's schema version and the data
// directory's; a database with migrations this program does not know makes serve refuse to
// start with a message naming both versions.
func TestVersionAndNewerSchema(t *testing.T) {
	s := NewServer(t, "")
	out := s.MustCLI("", "version")
	if !strings.HasPrefix(out, "posthorn ") || !strings.Contains(out, "(this program)") || !strings.Contains(out, "no database in") {
		t.Fatalf("version before any data:\n%s", out)
	}
	var known int
	if _, err := fmt.Sscanf(strings.Split(out, "\n")[1], "schema version %d (this program)", &known); err != nil {
		t.Fatalf("version: %v\n%s", err, out)
	}
	s.MustCLI("", "domain", "add", "example.org")
	out = s.MustCLI("", "version")
	if want := fmt.Sprintf("schema version %d (%s)\n", known, filepath.Join(s.Dir, "data", "posthorn.db")); !strings.Contains(out, want) {
		t.Fatalf("version with data printed\n%s\nwant a line %q", out, want)
	}

	db, err := sql.Open("sqlite", filepath.Join(s.Dir, "data", "posthorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	future := known + 1
	if _, err := db.Exec(`INSERT INTO schema_version (version, name, applied_at) VALUES (?, 'future', 0)`, future); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	out = s.MustCLI("", "version")
	if !strings.Contains(out, fmt.Sprintf("schema version %d", future)) || !strings.Contains(out, "refuse to start") {
		t.Errorf("version with a newer database:\n%s", out)
	}
	serve := exec.Command(binary, "-c", s.Config, "serve")
	serve.Dir = s.Dir
	msg, err := serve.CombinedOutput()
	if err == nil {
		t.Fatalf("serve started on a newer schema:\n%s", msg)
	}
	want := fmt.Sprintf("database schema version %d is newer than this program's %d", future, known)
	if !strings.Contains(string(msg), want) {
		t.Fatalf("serve on a newer schema said\n%s\nwant %q", msg, want)
	}
}

// TestBackupIncrementalCLI: a full backup, more mail and flag changes, an incremental one
// from it holding only the new bodies; verify finds the chain beside it and fails without
// it; a restore with --base serves what the live server serves: UIDVALIDITY, UIDs, flags,
// MODSEQs and bodies.
func TestBackupIncrementalCLI(t *testing.T) {
	s := backupServer(t)
	deliverMany(t, s.SMTP, 0, 40, 3000, 4)
	dir := t.TempDir()
	full, incr := filepath.Join(dir, "full.tar.zst"), filepath.Join(dir, "incr.tar.zst")
	s.MustCLI("", "backup", "create", full)
	deliverMany(t, s.SMTP, 40, 5, 3000, 2)
	c := loginBackupIMAP(t, s.IMAP)
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if err := c.Store(imap.UIDSetNum(3, 41), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagSeen, "$Label2"}}, nil).Close(); err != nil {
		t.Fatal(err)
	}
	c.Close()

	out := s.MustCLI("", "backup", "create", incr, "--incremental-from", full)
	// The five new bodies and the database; the 40 others from the chain.
	if !strings.Contains(out, " 6 entries, ") || !strings.Contains(out, "40 bodies from the chain") {
		t.Errorf("incremental backup printed %q", out)
	}
	// The bodies' bytes, from the manifests: the database is whole in both (and grows as the
	// full-text index catches up), the bodies are what an incremental saves.
	fullBodies, incrBodies := bodyBytes(t, full), bodyBytes(t, incr)
	if incrBodies*5 > fullBodies {
		t.Errorf("incremental archive holds %d bytes of bodies, the full one %d: want under a fifth", incrBodies, fullBodies)
	}
	if out := s.MustCLI("", "backup", "verify", incr); !strings.HasPrefix(out, "ok ") {
		t.Errorf("backup verify printed %q", out)
	}
	live := readIMAP(t, s.IMAP)

	elsewhere := filepath.Join(t.TempDir(), "base.tar.zst")
	if err := os.Rename(full, elsewhere); err != nil {
		t.Fatal(err)
	}
	if _, errOut, code := s.CLI("", "backup", "verify", incr); code == 0 || !strings.Contains(errOut, "--base") {
		t.Errorf("verify without its base: exit %d, %q", code, errOut)
	}
	if out := s.MustCLI("", "backup", "verify", incr, "--base", elsewhere); !strings.HasPrefix(out, "ok ") {
		t.Errorf("backup verify --base printed %q", out)
	}

	r := NewServer(t, "[log]\nlevel = \"warn\"\n")
	r.MustCLI("", "restore", incr, "--base", elsewhere, "--data", filepath.Join(r.Dir, "data"))
	r.Start()
	restored := readIMAP(t, r.IMAP)
	if restored.uidValidity != live.uidValidity || restored.highestModSeq != live.highestModSeq {
		t.Errorf("restored UIDVALIDITY %d HIGHESTMODSEQ %d, live %d %d", restored.uidValidity, restored.highestModSeq,
			live.uidValidity, live.highestModSeq)
	}
	if len(restored.messages) != 45 || len(live.messages) != 45 {
		t.Errorf("%d messages restored, %d live, want 45", len(restored.messages), len(live.messages))
	}
	for uid, want := range live.messages {
		got := restored.messages[uid]
		if got.modSeq != want.modSeq || got.flags != want.flags || !bytes.Equal(got.body, want.body) {
			t.Errorf("UID %d: restored MODSEQ %d flags %q (%d bytes), live %d %q (%d bytes)", uid, got.modSeq, got.flags,
				len(got.body), want.modSeq, want.flags, len(want.body))
		}
	}
	if out := r.MustCLI("", "check"); out != "ok\n" {
		t.Errorf("check of the restored data directory: %q", out)
	}
}

// bodyBytes is the size of the bodies an archive holds, from its manifest.
func bodyBytes(t *testing.T, archive string) int64 {
	t.Helper()
	m, _, err := backup.Verify(t.Context(), archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, e := range m.Entries {
		if strings.HasPrefix(e.Path, "bodies/") {
			n += e.Size
		}
	}
	return n
}
