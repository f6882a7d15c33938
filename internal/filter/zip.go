package filter

import (
	"archive/zip"
	"bytes"
	"io"
	"path"
	"strings"
)

// zipPart spools an attachment that is a zip archive (or an OOXML document) and judges its
// entries.
func (w *walker) zipPart(r io.Reader, name string) error {
	s, err := newSpool(r, w.p.TempDir)
	if err != nil {
		return err
	}
	defer s.Close()
	if f := w.zipEntries(s.r, s.size, name, 1); f != nil {
		return w.stop(f)
	}
	return nil
}

// zipEntries judges the entries of the archive r (size octets) named name: by entry name
// (blocked extensions; vbaProject.bin marks an OOXML document with macros) and by the first
// octets of each entry; nested archives up to maxZipDepth. An archive that cannot be read is
// not judged further: its attachment name was judged already.
func (w *walker) zipEntries(r io.ReaderAt, size int64, name string, depth int) *Finding {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil
	}
	max := w.limit(w.p.MaxZipEntries, defaultEntries)
	for i, entry := range zr.File {
		if i >= max {
			break
		}
		inner := name + "/" + entry.Name
		if strings.EqualFold(path.Base(entry.Name), "vbaProject.bin") {
			return &Finding{Kind: "macro", File: inner, Why: "vbaProject.bin"}
		}
		if f := w.byName(entry.Name); f != nil {
			f.File = inner
			return f
		}
		if entry.FileInfo().IsDir() || entry.Flags&1 != 0 { // encrypted: only its name can be judged
			continue
		}
		if f := w.zipEntry(entry, inner, depth); f != nil {
			return f
		}
	}
	return nil
}

// zipEntry reads the first octets of one entry, and the whole of a small nested archive.
func (w *walker) zipEntry(entry *zip.File, name string, depth int) *Finding {
	rc, err := entry.Open()
	if err != nil {
		return nil
	}
	defer rc.Close()
	head := make([]byte, magicLength)
	n, _ := io.ReadFull(rc, head)
	head = head[:n]
	if kind := magicKind(head); kind != "" {
		return &Finding{Kind: kind, File: name, Why: "magic"}
	}
	if bytes.HasPrefix(head, ole2Magic) {
		if hasVBA(io.MultiReader(bytes.NewReader(head), rc)) {
			return &Finding{Kind: "macro", File: name, Why: "_VBA_PROJECT"}
		}
		return nil
	}
	if !bytes.HasPrefix(head, []byte("PK\x03\x04")) || depth >= maxZipDepth || entry.UncompressedSize64 > maxNestedZip {
		return nil
	}
	data, err := io.ReadAll(io.LimitReader(io.MultiReader(bytes.NewReader(head), rc), maxNestedZip))
	if err != nil {
		return nil
	}
	return w.zipEntries(bytes.NewReader(data), int64(len(data)), name, depth+1)
}
