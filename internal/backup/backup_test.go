package backup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/bodystore"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
	"posthorn/internal/testutil/storeenv"
)

// mailboxState is what IMAP shows of a mailbox, read from a store and its bodies.
type mailboxState struct {
	UIDValidity   uint32
	HighestModSeq uint64
	Messages      []messageState
}

type messageState struct {
	UID    uint32
	ModSeq uint64
	Flags  []string
	Body   string
}

func readMailbox(t *testing.T, st store.Store, bodies bodystore.Bodies, acc store.Account, name string) mailboxState {
	t.Helper()
	ctx := t.Context()
	mb, err := st.GetMailbox(ctx, acc.ID, name)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.ListMessages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := mailboxState{UIDValidity: mb.UIDValidity, HighestModSeq: mb.HighestModSeq}
	for _, m := range msgs {
		b, err := bodies.Open(ctx, m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(io.NewSectionReader(b, 0, m.Size))
		b.Close()
		if err != nil {
			t.Fatal(err)
		}
		out.Messages = append(out.Messages, messageState{UID: m.UID, ModSeq: m.ModSeq, Flags: m.Flags, Body: string(data)})
	}
	return out
}

func source(t *testing.T, e *mailenv.Env, bodies bodystore.Bodies) Source {
	t.Helper()
	snap, ok := e.Store.(Snapshotter)
	if !ok {
		t.Fatalf("store %T takes no snapshot", e.Store)
	}
	return Source{Database: snap, Bodies: bodies, TempDir: e.Dir}
}

func fillMail(t *testing.T, e *mailenv.Env, n int) {
	t.Helper()
	for i := range n {
		var flags []string
		if i%3 == 0 {
			flags = []string{`\Seen`}
		}
		e.Deliver(e.Alice, "INBOX", fmt.Sprintf("Subject: m%d\r\n\r\n%s\r\n", i, strings.Repeat("body ", i*50)), flags...)
	}
	ms := e.Store.(store.MailStore)
	mb, err := e.Store.GetMailbox(t.Context(), e.Alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ms.UpdateFlags(t.Context(), mb.ID, []uint32{2, 3}, store.FlagsAdd, []string{`\Flagged`, "$Label1"}, 0); err != nil {
		t.Fatal(err)
	}
}

func restoreInto(t *testing.T, archive, dir string) (Summary, error) {
	t.Helper()
	_, sum, err := Restore(t.Context(), archive, Destination{Dir: dir, Database: filepath.Join(dir, "posthorn.db"),
		Bodies: filepath.Join(dir, "blobs")}, nil)
	return sum, err
}

// TestRoundTrip: what a restore brings back is the mailbox as it was: UIDVALIDITY, UIDs,
// MODSEQs, flags and bodies.
func TestRoundTrip(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 30)
	before := readMailbox(t, e.Store, e.Blobs.Bodies(), e.Alice, "INBOX")

	archive := filepath.Join(t.TempDir(), "b.tar.zst")
	var reports int
	src := source(t, e, e.Blobs.Bodies())
	src.Progress = func(done, total int64) {
		if done > total {
			t.Errorf("progress %d of %d", done, total)
		}
		reports++
	}
	created, err := Create(t.Context(), src, archive)
	if err != nil {
		t.Fatal(err)
	}
	if created.Entries != 31 || reports == 0 {
		t.Errorf("created %+v with %d progress reports, want 31 entries (30 bodies and the database)", created, reports)
	}
	if _, err := os.Stat(archive + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the .partial file is still there: %v", err)
	}
	if _, err := Create(t.Context(), src, archive); err == nil {
		t.Error("Create over an existing archive succeeded")
	}
	m, verified, err := Verify(t.Context(), archive, nil)
	if err != nil {
		t.Fatal(err)
	}
	if verified.Entries != created.Entries || verified.Bytes != created.Bytes || m.Database.Kind != DatabaseSQLite {
		t.Errorf("verify %+v (%s), create %+v", verified, m.Database.Kind, created)
	}
	leftovers, _ := filepath.Glob(filepath.Join(e.Dir, ".backup-snapshot-*"))
	if len(leftovers) > 0 {
		t.Errorf("snapshot files left in the data directory: %v", leftovers)
	}

	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := restoreInto(t, archive, dir); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, dir, before)
}

// TestVerifyDetectsDamage: one flipped byte anywhere, or a cut, is an error; a restore of a
// damaged archive leaves nothing behind.
func TestVerifyDetectsDamage(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 20)
	archive := filepath.Join(t.TempDir(), "b.tar.zst")
	if _, err := Create(t.Context(), source(t, e, e.Blobs.Bodies()), archive); err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(archive)
	if err != nil {
		t.Fatal(err)
	}
	for _, at := range []int{0, 5, len(good) / 4, len(good) / 2, len(good) * 3 / 4, len(good) - 10, len(good) - 1} {
		bad := slices.Clone(good)
		bad[at] ^= 0x20
		damaged := filepath.Join(t.TempDir(), "damaged")
		if err := os.WriteFile(damaged, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Verify(t.Context(), damaged, nil); err == nil {
			t.Errorf("byte %d of %d flipped: Verify accepted the archive", at, len(good))
		} else {
			t.Logf("byte %d flipped: %v", at, err)
		}
		dir := filepath.Join(t.TempDir(), "restored")
		if _, err := restoreInto(t, damaged, dir); err == nil {
			t.Errorf("byte %d flipped: Restore accepted the archive", at)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("byte %d flipped: the failed restore left %s: %v", at, dir, err)
		}
	}
	for _, n := range []int{0, len(good) / 2, len(good) - 1} {
		cut := filepath.Join(t.TempDir(), "cut")
		if err := os.WriteFile(cut, good[:n], 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Verify(t.Context(), cut, nil); err == nil {
			t.Errorf("archive cut to %d of %d bytes: Verify accepted it", n, len(good))
		}
	}
}

// TestRestoreOnlyIntoEmpty: a data directory with anything in it is refused and left alone.
func TestRestoreOnlyIntoEmpty(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 3)
	archive := filepath.Join(t.TempDir(), "b.tar.zst")
	if _, err := Create(t.Context(), source(t, e, e.Blobs.Bodies()), archive); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keep := filepath.Join(dir, "posthorn.db")
	if err := os.WriteFile(keep, []byte("someone's data"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := restoreInto(t, archive, dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Fatalf("restore into a non-empty directory: %v", err)
	}
	if data, err := os.ReadFile(keep); err != nil || string(data) != "someone's data" {
		t.Fatalf("the refused restore touched %s: %q, %v", keep, data, err)
	}
	empty := t.TempDir()
	if _, err := restoreInto(t, archive, empty); err != nil {
		t.Fatalf("restore into an existing empty directory: %v", err)
	}
}

// expungingBodies expunges a message the moment its body is first opened, as a client's
// EXPUNGE racing the backup would, and removes the body.
type expungingBodies struct {
	bodystore.Bodies
	t       *testing.T
	e       *mailenv.Env
	victim  string
	mailbox int64
	uid     uint32
	done    bool
}

func (b *expungingBodies) Open(ctx context.Context, id string) (bodystore.Body, error) {
	if id == b.victim && !b.done {
		b.done = true
		ms := b.e.Store.(store.MailStore)
		if _, _, err := ms.UpdateFlags(ctx, b.mailbox, []uint32{b.uid}, store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
			b.t.Fatal(err)
		}
		_, gone, err := ms.Expunge(ctx, b.mailbox, []uint32{b.uid})
		if err != nil || len(gone) != 1 {
			b.t.Fatalf("expunge: %v, %v", gone, err)
		}
		if err := b.Bodies.Remove(ctx, gone[0]); err != nil {
			b.t.Fatal(err)
		}
	}
	return b.Bodies.Open(ctx, id)
}

// TestBodyExpungedDuringBackup: a body removed after the snapshot makes Create take another
// one; the archive is then the later state, complete, and restores without the message.
func TestBodyExpungedDuringBackup(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 5)
	mb, err := e.Store.GetMailbox(t.Context(), e.Alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := e.Store.ListMessages(t.Context(), mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	victim := msgs[len(msgs)-1]
	bodies := &expungingBodies{Bodies: e.Blobs.Bodies(), t: t, e: e, victim: victim.BlobID, mailbox: mb.ID, uid: victim.UID}
	archive := filepath.Join(t.TempDir(), "b.tar.zst")
	sum, err := Create(t.Context(), source(t, e, bodies), archive)
	if err != nil {
		t.Fatal(err)
	}
	if !bodies.done || sum.Entries != 5 {
		t.Fatalf("expunged during the backup: %v; archive of %d entries, want 4 bodies and the database", bodies.done, sum.Entries)
	}
	before := readMailbox(t, e.Store, e.Blobs.Bodies(), e.Alice, "INBOX")
	dir := filepath.Join(t.TempDir(), "restored")
	if _, err := restoreInto(t, archive, dir); err != nil {
		t.Fatal(err)
	}
	restored := storeenv.OpenStore(t, filepath.Join(dir, "posthorn.db"))
	rb, err := openBodies(t, filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	after := readMailbox(t, restored, rb, e.Alice, "INBOX")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("restored mailbox differs:\n got %+v\nwant %+v", after, before)
	}
	if bytes.Contains([]byte(fmt.Sprint(after)), []byte("m4\r\n")) {
		t.Fatal("the expunged message came back")
	}
}
