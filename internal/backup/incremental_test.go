package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
	"posthorn/internal/testutil/storeenv"
)

// restoreChainInto restores archive with its chain bases into dir and compares alice's INBOX
// with want.
func restoreChainInto(t *testing.T, archive string, bases []string, dir string) (Summary, error) {
	t.Helper()
	_, sum, err := RestoreChain(t.Context(), archive, bases, Destination{Dir: dir, Database: filepath.Join(dir, "posthorn.db"),
		Bodies: filepath.Join(dir, "blobs")}, nil)
	return sum, err
}

func checkRestored(t *testing.T, dir string, want mailboxState) {
	t.Helper()
	restored := storeenv.OpenStore(t, filepath.Join(dir, "posthorn.db"))
	bodies, err := openBodies(t, filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	acc, err := restored.GetAccount(t.Context(), "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if got := readMailbox(t, restored, bodies, acc, "INBOX"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("restored mailbox differs:\n got %+v\nwant %+v", got, want)
	}
	if problems, err := restored.Check(t.Context()); err != nil || len(problems) > 0 {
		t.Errorf("check of the restored database: %v, %v", problems, err)
	}
}

// deliverMore delivers n messages after those of fillMail, and changes the flags of an old one
// and expunges another, so that the incremental's database differs from the base's in every way.
func deliverMore(t *testing.T, e *mailenv.Env, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		e.Deliver(e.Alice, "INBOX", fmt.Sprintf("Subject: new %d\r\n\r\n%s\r\n", i, strings.Repeat("later ", 100)))
	}
	ms := e.Store.(store.MailStore)
	mb, err := e.Store.GetMailbox(t.Context(), e.Alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ms.UpdateFlags(t.Context(), mb.ID, []uint32{uint32(from) - 1, 4}, store.FlagsAdd, []string{`\Answered`, `\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ms.Expunge(t.Context(), mb.ID, []uint32{4}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ms.UpdateFlags(t.Context(), mb.ID, []uint32{uint32(from) - 1}, store.FlagsRemove, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
}

// TestIncrementalChain: a full archive, more mail, an incremental from it, more mail, an
// incremental from that one. Each incremental holds only the bodies added since its base,
// and a restore of the last one with its chain brings back the mailbox as it is live.
func TestIncrementalChain(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 30)
	dir := t.TempDir()
	full, incr1, incr2 := filepath.Join(dir, "full.tar.zst"), filepath.Join(dir, "incr1.tar.zst"), filepath.Join(dir, "incr2.tar.zst")
	fullSum, err := Create(t.Context(), source(t, e, e.Blobs.Bodies()), full)
	if err != nil {
		t.Fatal(err)
	}

	deliverMore(t, e, 31, 3)
	src := source(t, e, e.Blobs.Bodies())
	src.Base = full
	sum1, err := Create(t.Context(), src, incr1)
	if err != nil {
		t.Fatal(err)
	}
	// 30 bodies, one expunged, 3 new: the incremental holds the 3 and the database.
	if sum1.Entries != 4 || sum1.Inherited != 29 {
		t.Errorf("incremental: %+v, want 4 entries (3 bodies and the database) and 29 inherited", sum1)
	}
	m1, _, err := Verify(t.Context(), incr1, nil)
	if err != nil {
		t.Fatal(err)
	}
	fullManifest, _, err := Verify(t.Context(), full, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !m1.Incremental() || m1.FormatVersion != IncrementalVersion || m1.Base.ManifestSHA256 != fullManifest.Checksum ||
		m1.Base.File != "full.tar.zst" || len(m1.Chain) != 1 || len(m1.Inherited) != 29 {
		t.Errorf("incremental manifest: base %+v, chain %+v, %d inherited", m1.Base, m1.Chain, len(m1.Inherited))
	}
	t.Logf("full: %s; incremental: %s", fullSum, sum1)

	deliverMore(t, e, 34, 2)
	src.Base = incr1
	sum2, err := Create(t.Context(), src, incr2)
	if err != nil {
		t.Fatal(err)
	}
	// UID 4 is gone already: 32 bodies from the chain, 2 new ones.
	if sum2.Entries != 3 || sum2.Inherited != 32 {
		t.Errorf("second incremental: %+v, want 3 entries and 32 inherited", sum2)
	}
	m2, _, err := VerifyChain(t.Context(), incr2, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m2.Chain) != 2 || m2.Chain[0].File != "incr1.tar.zst" && m2.Chain[1].File != "incr1.tar.zst" {
		t.Errorf("chain of the second incremental: %+v", m2.Chain)
	}

	want := readMailbox(t, e.Store, e.Blobs.Bodies(), e.Alice, "INBOX")
	// The chain found beside the archive, and given elsewhere.
	restored := filepath.Join(t.TempDir(), "restored")
	if sum, err := restoreChainInto(t, incr2, nil, restored); err != nil {
		t.Fatal(err)
	} else if sum.Inherited != 32 {
		t.Errorf("restore: %+v, want 32 bodies from the chain", sum)
	}
	checkRestored(t, restored, want)

	elsewhere := t.TempDir()
	moved := map[string]string{}
	for _, f := range []string{full, incr1, incr2} {
		moved[f] = filepath.Join(elsewhere, "copy-"+filepath.Base(f))
		if err := os.Rename(f, moved[f]); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := VerifyChain(t.Context(), moved[incr2], nil, nil); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("verify without the chain (renamed): %v", err)
	}
	restored2 := filepath.Join(t.TempDir(), "restored")
	if _, err := restoreChainInto(t, moved[incr2], []string{moved[full], moved[incr1]}, restored2); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, restored2, want)
}

// TestIncrementalSmaller: an incremental after a few new messages is a small fraction of the
// full archive, in entries and in bytes.
func TestIncrementalSmaller(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 60)
	dir := t.TempDir()
	full, incr := filepath.Join(dir, "full.tar.zst"), filepath.Join(dir, "incr.tar.zst")
	fullSum, err := Create(t.Context(), source(t, e, e.Blobs.Bodies()), full)
	if err != nil {
		t.Fatal(err)
	}
	deliverMore(t, e, 61, 2)
	src := source(t, e, e.Blobs.Bodies())
	src.Base = full
	sum, err := Create(t.Context(), src, incr)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("full: %s; incremental: %s", fullSum, sum)
	bodies := func(s Summary) int { return s.Entries - 1 }
	// The database is in both; the bodies are what an incremental saves.
	if bodies(sum) != 2 || bodies(fullSum) != 60 {
		t.Errorf("bodies: full %d, incremental %d; want 60 and 2", bodies(fullSum), bodies(sum))
	}
	dbSize := func(file string) int64 {
		m, _, err := Verify(t.Context(), file, nil)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(m.Entries, func(e Entry) bool { return e.Path == databaseName })
		return m.Entries[i].Size
	}
	fullBodies, incrBodies := fullSum.Bytes-dbSize(full), sum.Bytes-dbSize(incr)
	if incrBodies*10 > fullBodies {
		t.Errorf("body bytes: incremental %d, full %d: want under a tenth", incrBodies, fullBodies)
	}
}

// TestIncrementalDamage: a missing base, a flipped byte in the base or in the incremental, or
// a damaged base at creation: each is an error, and a failed restore leaves nothing.
func TestIncrementalDamage(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 10)
	dir := t.TempDir()
	full, incr := filepath.Join(dir, "full.tar.zst"), filepath.Join(dir, "incr.tar.zst")
	if _, err := Create(t.Context(), source(t, e, e.Blobs.Bodies()), full); err != nil {
		t.Fatal(err)
	}
	deliverMore(t, e, 11, 2)
	src := source(t, e, e.Blobs.Bodies())
	src.Base = full
	if _, err := Create(t.Context(), src, incr); err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyChain(t.Context(), incr, nil, nil); err != nil {
		t.Fatal(err)
	}
	goodFull, err := os.ReadFile(full)
	if err != nil {
		t.Fatal(err)
	}
	goodIncr, err := os.ReadFile(incr)
	if err != nil {
		t.Fatal(err)
	}
	failRestore := func(what string, want string) {
		t.Helper()
		if _, _, err := VerifyChain(t.Context(), incr, nil, nil); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: verify: %v, want an error with %q", what, err, want)
		} else {
			t.Logf("%s: %v", what, err)
		}
		restored := filepath.Join(t.TempDir(), "restored")
		if _, err := restoreChainInto(t, incr, nil, restored); err == nil {
			t.Errorf("%s: restore succeeded", what)
		}
		if _, err := os.Stat(restored); !os.IsNotExist(err) {
			t.Errorf("%s: the failed restore left %s: %v", what, restored, err)
		}
	}

	if err := os.Rename(full, full+".away"); err != nil {
		t.Fatal(err)
	}
	failRestore("base missing", "missing")
	if err := os.Rename(full+".away", full); err != nil {
		t.Fatal(err)
	}

	for _, at := range []int{len(goodFull) / 3, len(goodFull) - 5} {
		bad := slices.Clone(goodFull)
		bad[at] ^= 0x01
		if err := os.WriteFile(full, bad, 0o600); err != nil {
			t.Fatal(err)
		}
		failRestore(fmt.Sprintf("base byte %d flipped", at), "base")
		src.Base = full
		if _, err := Create(t.Context(), src, filepath.Join(dir, "on-damaged.tar.zst")); err == nil {
			t.Errorf("base byte %d flipped: an incremental was made from it", at)
		}
	}
	if err := os.WriteFile(full, goodFull, 0o600); err != nil {
		t.Fatal(err)
	}

	bad := slices.Clone(goodIncr)
	bad[len(bad)/2] ^= 0x01
	if err := os.WriteFile(incr, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	failRestore("incremental byte flipped", "verify backup")
	if err := os.WriteFile(incr, goodIncr, 0o600); err != nil {
		t.Fatal(err)
	}

	// Another archive named as the base: it does not hold the bodies.
	other := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, other, 3)
	if err := os.Remove(full); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(t.Context(), source(t, other, other.Blobs.Bodies()), full); err != nil {
		t.Fatal(err)
	}
	failRestore("another archive in the base's place", "another archive")
}
