// Package backup writes, checks and restores an archive of one posthorn data directory, taken
// while the server runs.
//
// Archive: a tar stream (POSIX ustar) compressed with zstd, with these entries in this order:
//
//	bodies/YYYYMMDD/ID    every message body the database snapshot references (queue rows included)
//	database/posthorn.db  the database snapshot
//	manifest.json         Manifest: format and schema versions, time, every entry's path, size, SHA-256
//	manifest.sha256       the SHA-256 of manifest.json, in hex
//
// and after the zstd frame a skippable frame holding the SHA-256 of the whole file before it:
// the closing checksum (trailer).
//
// A reader hashes every entry as it streams past and compares all of them with the manifest at
// the end: each entry the manifest names must be there with its size and hash, and nothing else
// may be. An archive cut short lacks the manifest or its checksum (or the zstd frame's end and
// checksum); one flipped byte changes an entry's hash, the manifest's checksum, a tar header or
// the zstd stream, and the error names what failed.
//
// Consistency: the database is one snapshot (for SQLite, VACUUM INTO a temporary file in the
// data directory: a single read transaction beside the running server's writers; the file's
// name is removed as soon as it has been read and opened, so even a killed run leaves none). Bodies are
// immutable once committed, so copying the files the snapshot references gives their state at
// the snapshot, with one exception: a message expunged after the snapshot may have lost its body
// before the copy reached it. Create then takes a new snapshot, which no longer references that
// body, copies the bodies it references that are not in the archive yet, and repeats until a
// snapshot's bodies are all there; bodies copied earlier that the last snapshot does not
// reference stay in the archive marked unreferenced, and Restore leaves them out. Bodies come
// first and the database last for that reason. Messages committed after the snapshot are not in
// the archive.
//
// Atomicity: Create writes FILE.partial and renames it to FILE only after the archive is
// complete and fsync'd, so a crash or SIGKILL leaves no FILE; a .partial left behind fails
// Verify (no manifest). Memory stays bounded: entries are streamed, never held, except the
// manifest (one line of JSON per body) and the set of body ids.
//
// Incremental archives: Create with Source.Base writes the whole database snapshot but only the
// bodies that the base archive does not offer, neither its own nor those it inherits from its
// chain. Its manifest (format version 2) names the base (Base: the SHA-256 of the base's
// manifest, which is any archive's identity, its file name and time), the archives holding the
// bodies it relies on (Chain, the base among them when it holds one) and every such body
// (Inherited: path, size, SHA-256 and which archive of Chain holds it). An incremental from an
// incremental relies on the older archives directly, so its Chain is all a restore needs.
// VerifyChain checks an incremental and reads its chain: the files given (--base), then the
// files Chain names in the incremental's directory; every inherited body must be found with its
// size and SHA-256 in an archive that passes Verify. RestoreChain writes the incremental and
// then the inherited bodies from the chain, with the same checks and the same clean-up on
// failure. A body found with the right SHA-256 counts whichever archive it comes from.
//
// Scheduled backups (Job, Scheduler; [backup] in the configuration): archives named after their
// time (retention.go) in one directory, a full one every few days and incremental ones from the
// archive before between them, each verified after it is written; then Keep's retention rules
// remove old ones, never an archive that a kept incremental's chain needs (the names say what
// each incremental's base is, so pruning reads no archive).
//
// Backends: the archive is meant to be backend-neutral. Manifest.Database.Kind says what form
// the database entry has; today it is always "sqlite-snapshot", a complete SQLite file. A
// PostgreSQL backend will add its own kind (a logical dump of the same tables), and Restore
// will load either into either backend; bodies are plain files under their ids whatever the
// body backend.
package backup

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path"
	"strings"
	"time"

	"posthorn/internal/blob"
)

// Format names the archive format in the manifest, FormatVersion the version of a full
// archive and IncrementalVersion that of an incremental one (which a program reading only
// version 1 refuses by its version, rather than restoring a database without its bodies).
const (
	Format             = "posthorn-backup"
	FormatVersion      = 1
	IncrementalVersion = 2
)

// DatabaseSQLite is Manifest.Database.Kind for a complete SQLite database file.
const DatabaseSQLite = "sqlite-snapshot"

// The archive's entry names.
const (
	bodiesDir    = "bodies/"
	databaseName = "database/posthorn.db"
	manifestName = "manifest.json"
	checksumName = "manifest.sha256"
)

// maxManifest bounds the manifest a reader holds in memory: 256 MiB is about a million bodies.
const maxManifest = 256 << 20

// Manifest describes an archive; it is the archive's last entry but one.
type Manifest struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"format_version"`
	SchemaVersion int       `json:"schema_version"` // of the database snapshot
	Created       time.Time `json:"created"`        // when the snapshot was taken
	Database      Database  `json:"database"`
	Entries       []Entry   `json:"entries"` // in archive order, the manifest and its checksum aside
	// Base is the archive an incremental one was made from; nil for a full archive.
	Base *ArchiveRef `json:"base,omitempty"`
	// Chain is every archive that holds a body this one relies on (Inherited), the base and
	// older ones; Inherited entries point into it.
	Chain []ArchiveRef `json:"chain,omitempty"`
	// Inherited are the bodies the database snapshot references that this archive does not
	// hold, because an archive of its chain does.
	Inherited []InheritedEntry `json:"inherited,omitempty"`

	// Checksum is the hex SHA-256 of manifest.json, the archive's identity (what an
	// incremental's ArchiveRef names). Set by the reader; not part of the manifest.
	Checksum string `json:"-"`
}

// Incremental reports whether the archive relies on others for some of its bodies.
func (m Manifest) Incremental() bool { return m.Base != nil }

// ArchiveRef names another archive: by the SHA-256 of its manifest, with the name of its
// file when the incremental was made (where Verify and Restore look for it first, in the
// incremental's directory) and its time.
type ArchiveRef struct {
	ManifestSHA256 string    `json:"manifest_sha256"`
	File           string    `json:"file"` // base name
	Created        time.Time `json:"created"`
}

// InheritedEntry is a body held by the archive Chain[Archive].
type InheritedEntry struct {
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	Archive int    `json:"archive"`
}

// holds returns the bodies an archive can give an incremental made from it: those it holds
// (by entry path, with Archive -1 for itself) and those it inherits from its chain.
func (m Manifest) holds() map[string]InheritedEntry {
	out := make(map[string]InheritedEntry, len(m.Entries)+len(m.Inherited))
	for _, e := range m.Entries {
		if _, ok := bodyID(e.Path); ok && !e.Unreferenced {
			out[e.Path] = InheritedEntry{Path: e.Path, Size: e.Size, SHA256: e.SHA256, Archive: -1}
		}
	}
	for _, e := range m.Inherited {
		out[e.Path] = e
	}
	return out
}

// Database names the archive's database entry and its form.
type Database struct {
	Kind string `json:"kind"` // DatabaseSQLite
	Path string `json:"path"` // its entry
}

// Entry is one file of the archive.
type Entry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // hex
	// Unreferenced marks a body copied before the final snapshot that the snapshot does not
	// reference (expunged meanwhile): kept in the archive, left out by Restore.
	Unreferenced bool `json:"unreferenced,omitempty"`
}

// Summary is what a run did.
type Summary struct {
	Entries       int   // files in the archive, bodies and database
	Bytes         int64 // their uncompressed size
	Inherited     int   // bodies an incremental relies on from its chain (Restore: brought from it)
	ArchiveBytes  int64 // the archive file's size
	SchemaVersion int
	Elapsed       time.Duration
}

func (s Summary) String() string {
	var chain string
	if s.Inherited > 0 {
		chain = fmt.Sprintf(", %d bodies from the chain", s.Inherited)
	}
	return fmt.Sprintf("%d entries, %d bytes (archive %d bytes)%s, schema version %d, in %s",
		s.Entries, s.Bytes, s.ArchiveBytes, chain, s.SchemaVersion, s.Elapsed.Round(time.Millisecond))
}

// Progress is told how far a run is: done of total bytes (Create: of the entries' bytes;
// Verify and Restore: of the archive file's). It may be nil.
type Progress func(done, total int64)

func (p Progress) report(done, total int64) {
	if p != nil {
		p(done, total)
	}
}

// bodyPath is the archive entry of the body id.
func bodyPath(id string) string { return bodiesDir + id[:8] + "/" + id }

// bodyID returns the body id an entry name holds, and whether it is a well-formed body entry.
func bodyID(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, bodiesDir)
	if !ok {
		return "", false
	}
	day, id := path.Split(rest)
	if !blob.ValidID(id) || day != id[:8]+"/" {
		return "", false
	}
	return id, true
}

// ctxReader fails reads once ctx is done, so that a long copy stops on cancellation.
type ctxReader struct {
	ctx context.Context
	r   interface{ Read([]byte) (int, error) }
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// The archive's last bytes are a zstd skippable frame (RFC 8878 §3.1.2) that decoders pass
// over: its magic number, the length of its content, then trailerLabel and the SHA-256 of every
// byte of the file before the frame. It catches a change anywhere in the file, including the
// bits of the zstd frame header that decoders ignore.
const (
	skippableMagic = 0x184D2A50
	trailerLabel   = "posthorn-backup1"
	trailerLen     = 8 + len(trailerLabel) + sha256.Size
)

// trailer is the closing frame for a file whose preceding bytes hash to sum.
func trailer(sum []byte) []byte {
	b := binary.LittleEndian.AppendUint32(nil, skippableMagic)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(trailerLabel)+sha256.Size))
	b = append(b, trailerLabel...)
	return append(b, sum...)
}
