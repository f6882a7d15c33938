package backup

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// VerifyChain checks the archive file as Verify does and, for an incremental one, that every
// body it relies on is in its chain: each inherited body must be in one of the bases given or
// in the file its chain reference names beside file, with the size and SHA-256 the
// incremental lists, in an archive that passes Verify itself. For a full archive it is Verify.
func VerifyChain(ctx context.Context, file string, bases []string, progress Progress) (Manifest, Summary, error) {
	start := time.Now()
	m, sum, err := Verify(ctx, file, progress)
	if err != nil || !m.Incremental() {
		return m, sum, err
	}
	discard := func(string, io.Reader) error { return nil }
	if err := readChain(ctx, file, m, bases, progress, discard); err != nil {
		return Manifest{}, Summary{}, fmt.Errorf("verify backup %s: %w", file, err)
	}
	sum.Elapsed = time.Since(start)
	return m, sum, nil
}

// readChain reads the archives of the incremental m (the manifest of file) until every body
// it inherits has been found: first the files of bases, then the file each chain reference
// names in file's directory, when a body it holds is still missing. put receives each body
// that was missing as it streams past, under its id; a body counts as found once its
// archive has passed the checks of Verify and its manifest lists the body with the size and
// SHA-256 that m lists.
func readChain(ctx context.Context, file string, m Manifest, bases []string, progress Progress,
	put func(id string, r io.Reader) error) error {
	need := make(map[string]InheritedEntry, len(m.Inherited))
	for _, e := range m.Inherited {
		need[e.Path] = e
	}
	tried := map[string]string{} // file (absolute) -> its manifest's SHA-256
	read := func(f string) error {
		abs, err := filepath.Abs(f)
		if err != nil {
			return err
		}
		if _, ok := tried[abs]; ok {
			return nil
		}
		tried[abs] = ""
		got := map[string]bool{}
		bm, _, err := scan(ctx, f, progress, func(name string, r io.Reader) error {
			if _, ok := need[name]; !ok {
				return nil
			}
			got[name] = true
			id, _ := bodyID(name) // inherited paths are body entries (checkChain)
			return put(id, r)
		})
		if err != nil {
			return fmt.Errorf("base %s: %w", f, err)
		}
		tried[abs] = bm.Checksum
		for _, be := range bm.Entries {
			e, ok := need[be.Path]
			if !ok || !got[be.Path] {
				continue
			}
			if be.Size != e.Size || be.SHA256 != e.SHA256 {
				return fmt.Errorf("base %s: body %s has %d bytes and SHA-256 %s, the incremental relies on %d bytes and %s",
					f, be.Path, be.Size, be.SHA256, e.Size, e.SHA256)
			}
			delete(need, be.Path)
		}
		return nil
	}
	for _, f := range bases {
		if err := read(f); err != nil {
			return err
		}
	}
	dir := filepath.Dir(file)
	for i, ref := range m.Chain {
		if countMissing(need, i) == 0 || ref.File == "" || filepath.Base(ref.File) != ref.File {
			continue
		}
		f := filepath.Join(dir, ref.File)
		if _, err := os.Stat(f); err != nil {
			continue
		}
		if err := read(f); err != nil {
			return err
		}
	}
	for i, ref := range m.Chain {
		n := countMissing(need, i)
		if n == 0 {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(dir, ref.File))
		if sum := tried[abs]; err == nil && sum != "" && sum != ref.ManifestSHA256 {
			return fmt.Errorf("%d bodies are in the archive %s of %s (manifest SHA-256 %s); the file of that name "+
				"beside %s is another archive (manifest SHA-256 %s): give the right one with --base",
				n, ref.File, ref.Created.Format("2006-01-02 15:04:05Z"), ref.ManifestSHA256, filepath.Base(file), sum)
		}
		return fmt.Errorf("%d bodies are in the archive %s of %s (manifest SHA-256 %s), which is missing: "+
			"give it with --base", n, ref.File, ref.Created.Format("2006-01-02 15:04:05Z"), ref.ManifestSHA256)
	}
	return nil
}

func countMissing(need map[string]InheritedEntry, archive int) int {
	n := 0
	for _, e := range need {
		if e.Archive == archive {
			n++
		}
	}
	return n
}
