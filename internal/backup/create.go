package backup

import (
	"archive/tar"
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/klauspost/compress/zstd"

	"posthorn/internal/bodystore"
	"posthorn/internal/store/sqlite"
)

// maxSnapshots bounds how many snapshots Create takes when bodies vanish under it (see the
// package doc); each new one only happens when an expunge raced the copy.
const maxSnapshots = 8

// Snapshotter takes a consistent copy of the live database into a new file.
type Snapshotter interface {
	Snapshot(ctx context.Context, path string) error
}

// Source is the live data a backup copies.
type Source struct {
	Database Snapshotter
	Bodies   bodystore.Bodies
	// TempDir receives the database snapshot while the archive is written: a directory on the
	// data directory's filesystem, not a small /tmp.
	TempDir  string
	Progress Progress
	Now      func() time.Time // default time.Now
	// Base, when set, makes the archive incremental: the archive file it is made from, whose
	// bodies (its own and those of its chain) it does not copy again but names in
	// Manifest.Inherited. The base is verified first.
	Base string
}

// Create writes an archive of src to file: file.partial first, renamed to file once complete
// and synced. An existing file is refused.
func Create(ctx context.Context, src Source, file string) (Summary, error) {
	start := time.Now()
	if src.Now == nil {
		src.Now = time.Now
	}
	if _, err := os.Lstat(file); err == nil {
		return Summary{}, fmt.Errorf("create backup: %s exists", file)
	}
	partial := file + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return Summary{}, fmt.Errorf("create backup: %w", err)
	}
	sum, err := write(ctx, src, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(partial, file)
	}
	if err == nil {
		err = syncDir(filepath.Dir(file))
	}
	if err != nil {
		_ = os.Remove(partial)
		return Summary{}, fmt.Errorf("create backup %s: %w", file, err)
	}
	info, err := os.Stat(file)
	if err != nil {
		return Summary{}, fmt.Errorf("create backup %s: %w", file, err)
	}
	sum.ArchiveBytes = info.Size()
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// archiveWriter is the tar stream inside the zstd stream inside the file.
type archiveWriter struct {
	ctx      context.Context
	buf      *bufio.Writer
	zw       *zstd.Encoder
	tw       *tar.Writer
	modTime  time.Time
	entries  []Entry
	bytes    int64 // entry bytes written
	total    int64 // entry bytes expected, for progress
	progress Progress
	// available are the bodies an incremental archive's chain holds (chainBuilder).
	available map[string]InheritedEntry
}

func write(ctx context.Context, src Source, f *os.File) (Summary, error) {
	fileHash := sha256.New()
	buf := bufio.NewWriterSize(io.MultiWriter(f, fileHash), 1<<20)
	// One encoder goroutine and a 4 MiB window keep the memory small whatever the data.
	zw, err := zstd.NewWriter(buf, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(4<<20))
	if err != nil {
		return Summary{}, err
	}
	w := &archiveWriter{ctx: ctx, buf: buf, zw: zw, tw: tar.NewWriter(zw), progress: src.Progress}
	var base *chainBuilder
	if src.Base != "" {
		if base, err = readBase(ctx, src.Base); err != nil {
			return Summary{}, err
		}
		w.available = base.available
	}
	snap, info, err := w.bodies(ctx, src)
	if err != nil {
		return Summary{}, err
	}
	err = w.file(databaseName, snap)
	if cerr := snap.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return Summary{}, err
	}
	m := Manifest{Format: Format, FormatVersion: FormatVersion, SchemaVersion: info.SchemaVersion,
		Created: w.modTime, Database: Database{Kind: DatabaseSQLite, Path: databaseName}, Entries: w.entries}
	if base != nil {
		m.FormatVersion = IncrementalVersion
		m.Base = &base.ref
		m.Chain, m.Inherited = base.inherit(info.Bodies)
	}
	if err := w.finish(m); err != nil {
		return Summary{}, err
	}
	if _, err := f.Write(trailer(fileHash.Sum(nil))); err != nil {
		return Summary{}, fmt.Errorf("write closing checksum: %w", err)
	}
	return Summary{Entries: len(w.entries), Bytes: w.bytes, Inherited: len(m.Inherited), SchemaVersion: info.SchemaVersion}, nil
}

// chainBuilder is what an incremental archive takes from its base.
type chainBuilder struct {
	ref       ArchiveRef
	chain     []ArchiveRef              // the base's
	available map[string]InheritedEntry // by entry path; Archive -1 is the base itself
}

// readBase verifies the base archive file and returns what it offers.
func readBase(ctx context.Context, file string) (*chainBuilder, error) {
	m, _, err := Verify(ctx, file, nil)
	if err != nil {
		return nil, fmt.Errorf("base: %w", err)
	}
	return &chainBuilder{ref: ArchiveRef{ManifestSHA256: m.Checksum, File: filepath.Base(file), Created: m.Created},
		chain: m.Chain, available: m.holds()}, nil
}

// inherit returns the chain and inherited entries of an incremental whose snapshot references
// bodies: every body the base offers, pointing at the archive that holds it; the chain lists
// those archives in the order of first use.
func (c *chainBuilder) inherit(bodies []sqlite.SnapshotBody) ([]ArchiveRef, []InheritedEntry) {
	var chain []ArchiveRef
	index := map[string]int{} // manifest SHA-256 -> position in chain
	var inherited []InheritedEntry
	for _, b := range bodies {
		e, ok := c.available[bodyPath(b.ID)]
		if !ok || e.Size != b.Size {
			continue
		}
		ref := c.ref
		if e.Archive >= 0 {
			ref = c.chain[e.Archive]
		}
		i, ok := index[ref.ManifestSHA256]
		if !ok {
			i = len(chain)
			index[ref.ManifestSHA256] = i
			chain = append(chain, ref)
		}
		e.Archive = i
		inherited = append(inherited, e)
	}
	return chain, inherited
}

// bodies takes snapshots until one has all its bodies in the archive (package doc) and returns
// the last snapshot's file, open, and contents; the bodies copied earlier that it does not
// reference are marked unreferenced.
func (w *archiveWriter) bodies(ctx context.Context, src Source) (*os.File, sqlite.SnapshotInfo, error) {
	written := map[string]bool{}
	for range maxSnapshots {
		w.modTime = src.Now().UTC().Truncate(time.Second)
		snap, info, err := takeSnapshot(ctx, src)
		if err != nil {
			return nil, info, err
		}
		dbInfo, err := snap.Stat()
		if err != nil {
			return nil, info, errors.Join(err, snap.Close())
		}
		w.total = w.bytes + dbInfo.Size()
		for _, b := range info.Bodies {
			if !written[b.ID] && !w.inherits(b) {
				w.total += b.Size
			}
		}
		missing := false
		for _, b := range info.Bodies {
			if written[b.ID] || w.inherits(b) {
				continue
			}
			err := w.body(ctx, src.Bodies, b)
			if errors.Is(err, bodystore.ErrNotFound) {
				missing = true // expunged since the snapshot: the next one has no row for it
				continue
			}
			if err != nil {
				return nil, info, errors.Join(err, snap.Close())
			}
			written[b.ID] = true
		}
		if !missing {
			w.markUnreferenced(info.Bodies)
			return snap, info, nil
		}
		if err := snap.Close(); err != nil {
			return nil, info, err
		}
	}
	return nil, sqlite.SnapshotInfo{}, fmt.Errorf("bodies kept vanishing under %d snapshots in a row", maxSnapshots)
}

// inherits reports whether the body b is one an incremental archive takes from its chain.
func (w *archiveWriter) inherits(b sqlite.SnapshotBody) bool {
	e, ok := w.available[bodyPath(b.ID)]
	return ok && e.Size == b.Size
}

func (w *archiveWriter) markUnreferenced(bodies []sqlite.SnapshotBody) {
	referenced := make(map[string]bool, len(bodies))
	for _, b := range bodies {
		referenced[bodyPath(b.ID)] = true
	}
	for i := range w.entries {
		if !referenced[w.entries[i].Path] {
			w.entries[i].Unreferenced = true
		}
	}
}

// body copies one body into the archive.
func (w *archiveWriter) body(ctx context.Context, bodies bodystore.Bodies, b sqlite.SnapshotBody) error {
	body, err := bodies.Open(ctx, b.ID)
	if err != nil {
		return err
	}
	size, err := body.Size()
	if err == nil && size != b.Size {
		err = fmt.Errorf("body %s: %d bytes, the database says %d", b.ID, size, b.Size)
	}
	if err == nil {
		err = w.entry(bodyPath(b.ID), size, io.NewSectionReader(body, 0, size))
	}
	return errors.Join(err, body.Close())
}

// takeSnapshot snapshots the database into a new file in src.TempDir, reads what it
// references, and returns it open with its name already removed, so that no run, not even a
// killed one, leaves it behind beyond these few steps.
func takeSnapshot(ctx context.Context, src Source) (*os.File, sqlite.SnapshotInfo, error) {
	path, err := tempName(src.TempDir)
	if err != nil {
		return nil, sqlite.SnapshotInfo{}, err
	}
	defer os.Remove(path)
	if err := src.Database.Snapshot(ctx, path); err != nil {
		return nil, sqlite.SnapshotInfo{}, err
	}
	info, err := sqlite.ReadSnapshot(ctx, path)
	if err != nil {
		return nil, info, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, info, err
	}
	return f, info, nil
}

// file copies the open file f, from its start, into the archive as entry name.
func (w *archiveWriter) file(name string, f *os.File) error {
	info, err := f.Stat()
	if err != nil {
		return err
	}
	return w.entry(name, info.Size(), io.NewSectionReader(f, 0, info.Size()))
}

// entry writes one tar entry of size bytes from r and records it for the manifest.
func (w *archiveWriter) entry(name string, size int64, r io.Reader) error {
	if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o640,
		ModTime: w.modTime, Format: tar.FormatUSTAR}); err != nil {
		return fmt.Errorf("write entry %s: %w", name, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w.tw, h, progressWriter{w}), ctxReader{w.ctx, r})
	if err == nil && n != size {
		err = fmt.Errorf("%d bytes, want %d", n, size)
	}
	if err != nil {
		return fmt.Errorf("write entry %s: %w", name, err)
	}
	w.entries = append(w.entries, Entry{Path: name, Size: size, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// progressWriter counts the entry bytes written and reports them.
type progressWriter struct{ w *archiveWriter }

func (p progressWriter) Write(b []byte) (int, error) {
	p.w.bytes += int64(len(b))
	p.w.progress.report(p.w.bytes, p.w.total)
	return len(b), nil
}

// finish writes the manifest and its checksum and closes the streams.
func (w *archiveWriter) finish(m Manifest) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(data)
	for _, e := range []struct {
		name string
		data []byte
	}{{manifestName, data}, {checksumName, []byte(hex.EncodeToString(sum[:]) + "\n")}} {
		if err := w.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)),
			Mode: 0o640, ModTime: w.modTime, Format: tar.FormatUSTAR}); err != nil {
			return fmt.Errorf("write %s: %w", e.name, err)
		}
		if _, err := w.tw.Write(e.data); err != nil {
			return fmt.Errorf("write %s: %w", e.name, err)
		}
	}
	if err := w.tw.Close(); err != nil {
		return fmt.Errorf("close tar stream: %w", err)
	}
	if err := w.zw.Close(); err != nil {
		return fmt.Errorf("close zstd stream: %w", err)
	}
	return w.buf.Flush()
}

// tempName is a fresh file name in dir for a snapshot; the file does not exist.
func tempName(dir string) (string, error) {
	var random [8]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, ".backup-snapshot-"+hex.EncodeToString(random[:])+".db"), nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}
