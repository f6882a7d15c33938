package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/klauspost/compress/zstd"
)

// seenEntry is what a reader found of one entry.
type seenEntry struct {
	size int64
	sum  string
}

// sink receives each file entry of the archive as it streams past; what it does not read is
// read (and hashed) after it returns.
type sink func(name string, r io.Reader) error

// scan reads the archive from file, hands every file entry to put and checks the whole against
// its manifest (package doc); the manifest is returned only if everything matched.
func scan(ctx context.Context, file string, progress Progress, put sink) (Manifest, Summary, error) {
	start := time.Now()
	f, err := os.Open(file)
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	if info.Size() < int64(trailerLen) {
		return Manifest{}, Summary{}, fmt.Errorf("%d bytes: too short for a backup archive", info.Size())
	}
	// Everything before the trailer is hashed on its way to the decoder, and the decoder never
	// sees the trailer.
	fileHash := sha256.New()
	body := io.TeeReader(io.LimitReader(f, info.Size()-int64(trailerLen)), fileHash)
	counted := &countingReader{r: bufio.NewReaderSize(body, 1<<20), total: info.Size(), progress: progress}
	// The window bound matches the writer's, so a damaged frame header cannot make the
	// decoder reserve a large window.
	zr, err := zstd.NewReader(ctxReader{ctx, counted}, zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(8<<20), zstd.WithDecoderLowmem(true))
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	defer zr.Close()
	m, sum, err := scanTar(zr, put)
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	if err := checkTrailer(f, info.Size(), fileHash.Sum(nil)); err != nil {
		return Manifest{}, Summary{}, err
	}
	sum.ArchiveBytes = info.Size()
	sum.Elapsed = time.Since(start)
	return m, sum, nil
}

func scanTar(zr io.Reader, put sink) (Manifest, Summary, error) {
	tr := tar.NewReader(zr)
	seen := map[string]seenEntry{}
	var order []string
	var manifest []byte
	last := "the archive's start"
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return Manifest{}, Summary{}, fmt.Errorf("archive ends after %s without its manifest checksum: truncated", last)
		}
		if err != nil {
			return Manifest{}, Summary{}, fmt.Errorf("read the entry after %s: %w", last, err)
		}
		name := hdr.Name
		if hdr.Typeflag != tar.TypeReg {
			return Manifest{}, Summary{}, fmt.Errorf("entry %q: not a regular file", name)
		}
		switch {
		case name == manifestName:
			if manifest != nil {
				return Manifest{}, Summary{}, fmt.Errorf("entry %s: a second manifest", name)
			}
			if manifest, err = io.ReadAll(io.LimitReader(tr, maxManifest+1)); err != nil {
				return Manifest{}, Summary{}, fmt.Errorf("read %s: %w", name, err)
			}
			if len(manifest) > maxManifest {
				return Manifest{}, Summary{}, fmt.Errorf("entry %s: larger than %d bytes", name, maxManifest)
			}
		case name == checksumName:
			if manifest == nil {
				return Manifest{}, Summary{}, fmt.Errorf("entry %s before %s", name, manifestName)
			}
			if err := checkEnd(tr, zr, manifest); err != nil {
				return Manifest{}, Summary{}, err
			}
			return checkManifest(manifest, seen, order)
		default:
			if manifest != nil {
				return Manifest{}, Summary{}, fmt.Errorf("entry %q after the manifest", name)
			}
			if _, ok := bodyID(name); !ok && name != databaseName {
				return Manifest{}, Summary{}, fmt.Errorf("entry %q: not a name a posthorn backup holds", name)
			}
			if _, dup := seen[name]; dup {
				return Manifest{}, Summary{}, fmt.Errorf("entry %s: twice in the archive", name)
			}
			e, err := readEntry(name, tr, put)
			if err != nil {
				return Manifest{}, Summary{}, err
			}
			seen[name] = e
			order = append(order, name)
		}
		last = "entry " + name
	}
}

// readEntry streams one entry through put, hashing and counting it.
func readEntry(name string, tr io.Reader, put sink) (seenEntry, error) {
	h := &hashCounter{h: sha256.New()}
	r := io.TeeReader(tr, h)
	err := put(name, r)
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	if err != nil {
		return seenEntry{}, fmt.Errorf("entry %s: %w", name, err)
	}
	return seenEntry{size: h.n, sum: hex.EncodeToString(h.h.Sum(nil))}, nil
}

type hashCounter struct {
	h hash.Hash
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return c.h.Write(p)
}

// checkEnd reads the checksum entry and makes sure nothing follows it, in the tar stream or in
// the zstd stream (whose end and frame checksum the decoder checks on the way to EOF).
func checkEnd(tr *tar.Reader, zr io.Reader, manifest []byte) error {
	text, err := io.ReadAll(io.LimitReader(tr, 200))
	if err != nil {
		return fmt.Errorf("read %s: %w", checksumName, err)
	}
	got := sha256.Sum256(manifest)
	if want := string(bytes.TrimSpace(text)); want != hex.EncodeToString(got[:]) {
		return fmt.Errorf("%s: the manifest's SHA-256 is %x, the checksum entry says %q: the manifest is damaged",
			checksumName, got, want)
	}
	if hdr, err := tr.Next(); !errors.Is(err, io.EOF) {
		if err != nil {
			return fmt.Errorf("after %s: %w", checksumName, err)
		}
		return fmt.Errorf("entry %q after %s", hdr.Name, checksumName)
	}
	if n, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("end of the compressed stream: %w", err)
	} else if n > 0 {
		return fmt.Errorf("%d bytes after the end of the tar stream", n)
	}
	return nil
}

// checkManifest compares what the archive held with what its manifest says.
func checkManifest(data []byte, seen map[string]seenEntry, order []string) (Manifest, Summary, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, Summary{}, fmt.Errorf("%s: %w", manifestName, err)
	}
	if m.Format != Format || (m.FormatVersion != FormatVersion && m.FormatVersion != IncrementalVersion) {
		return Manifest{}, Summary{}, fmt.Errorf("%s: format %q version %d, this program reads %q versions %d and %d",
			manifestName, m.Format, m.FormatVersion, Format, FormatVersion, IncrementalVersion)
	}
	if err := checkChain(m); err != nil {
		return Manifest{}, Summary{}, fmt.Errorf("%s: %w", manifestName, err)
	}
	if m.Database.Kind != DatabaseSQLite || m.Database.Path != databaseName {
		return Manifest{}, Summary{}, fmt.Errorf("%s: database %s at %s, this program restores %s at %s",
			manifestName, m.Database.Kind, m.Database.Path, DatabaseSQLite, databaseName)
	}
	var sum Summary
	listed := map[string]bool{}
	for _, e := range m.Entries {
		got, ok := seen[e.Path]
		switch {
		case listed[e.Path]:
			return Manifest{}, Summary{}, fmt.Errorf("%s lists %s twice", manifestName, e.Path)
		case !ok:
			return Manifest{}, Summary{}, fmt.Errorf("entry %s: listed in the manifest, missing from the archive", e.Path)
		case got.size != e.Size:
			return Manifest{}, Summary{}, fmt.Errorf("entry %s: %d bytes, the manifest says %d", e.Path, got.size, e.Size)
		case got.sum != e.SHA256:
			return Manifest{}, Summary{}, fmt.Errorf("entry %s: SHA-256 %s, the manifest says %s: the entry is damaged",
				e.Path, got.sum, e.SHA256)
		}
		listed[e.Path] = true
		sum.Entries++
		sum.Bytes += e.Size
	}
	for _, name := range order {
		if !listed[name] {
			return Manifest{}, Summary{}, fmt.Errorf("entry %s: in the archive, not in the manifest", name)
		}
	}
	if !listed[databaseName] {
		return Manifest{}, Summary{}, fmt.Errorf("the archive has no database entry %s", databaseName)
	}
	sum.SchemaVersion = m.SchemaVersion
	sum.Inherited = len(m.Inherited)
	checksum := sha256.Sum256(data)
	m.Checksum = hex.EncodeToString(checksum[:])
	return m, sum, nil
}

// checkChain checks what an incremental manifest says of its chain: a base and version 2
// together, inherited bodies well named, held by an archive of the chain, not held here too.
func checkChain(m Manifest) error {
	if m.Incremental() != (m.FormatVersion == IncrementalVersion) {
		return fmt.Errorf("format version %d with base %v: an incremental archive is version %d, a full one %d",
			m.FormatVersion, m.Base != nil, IncrementalVersion, FormatVersion)
	}
	if !m.Incremental() {
		if len(m.Chain) > 0 || len(m.Inherited) > 0 {
			return errors.New("a full archive with a chain")
		}
		return nil
	}
	for _, ref := range append([]ArchiveRef{*m.Base}, m.Chain...) {
		if len(ref.ManifestSHA256) != 2*sha256.Size {
			return fmt.Errorf("archive reference %q: not a SHA-256", ref.ManifestSHA256)
		}
	}
	own := make(map[string]bool, len(m.Entries))
	for _, e := range m.Entries {
		own[e.Path] = true
	}
	seen := make(map[string]bool, len(m.Inherited))
	for _, e := range m.Inherited {
		switch _, ok := bodyID(e.Path); {
		case !ok:
			return fmt.Errorf("inherited %q: not a body entry", e.Path)
		case own[e.Path] || seen[e.Path]:
			return fmt.Errorf("inherited %s: listed twice", e.Path)
		case e.Archive < 0 || e.Archive >= len(m.Chain):
			return fmt.Errorf("inherited %s: archive %d of a chain of %d", e.Path, e.Archive, len(m.Chain))
		}
		seen[e.Path] = true
	}
	return nil
}

// Verify reads the whole archive and checks it (package doc), without writing anything.
func Verify(ctx context.Context, file string, progress Progress) (Manifest, Summary, error) {
	m, sum, err := scan(ctx, file, progress, func(string, io.Reader) error { return nil })
	if err != nil {
		return Manifest{}, Summary{}, fmt.Errorf("verify backup %s: %w", file, err)
	}
	return m, sum, nil
}

// countingReader reports the archive bytes read.
type countingReader struct {
	r        io.Reader
	done     int64
	total    int64
	progress Progress
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.done += int64(n)
	c.progress.report(c.done, c.total)
	return n, err
}

// checkTrailer compares the closing checksum at the end of the file (backup.go) with sum, the
// hash of every byte before it.
func checkTrailer(f *os.File, size int64, sum []byte) error {
	got := make([]byte, trailerLen)
	if _, err := f.ReadAt(got, size-int64(trailerLen)); err != nil {
		return fmt.Errorf("read the closing checksum: %w", err)
	}
	if want := trailer(sum); !bytes.Equal(got, want) {
		if !bytes.Equal(got[:len(want)-sha256.Size], want[:len(want)-sha256.Size]) {
			return fmt.Errorf("the closing checksum frame is damaged or missing")
		}
		return fmt.Errorf("closing checksum: the file's SHA-256 is %x, the archive says %x: the file is damaged",
			sum, got[len(want)-sha256.Size:])
	}
	return nil
}
