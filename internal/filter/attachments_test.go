package filter

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/message"
	"posthorn/internal/testutil"
)

// withAttachment is a multipart/mixed message with a text part and one base64 attachment.
func withAttachment(contentType, disposition string, data []byte) []byte {
	var b strings.Builder
	b.WriteString("From: a@example.org\r\nTo: b@example.org\r\nSubject: files\r\nMIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"BOUND\"\r\n\r\n")
	b.WriteString("--BOUND\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n")
	b.WriteString("--BOUND\r\nContent-Type: " + contentType + "\r\nContent-Transfer-Encoding: base64\r\n")
	if disposition != "" {
		b.WriteString("Content-Disposition: " + disposition + "\r\n")
	}
	b.WriteString("\r\n")
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--BOUND--\r\n")
	return []byte(b.String())
}

func zipOf(t testing.TB, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, data := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	peHeader    = append([]byte("MZ\x90\x00\x03\x00\x00\x00"), make([]byte, 120)...)
	elfHeader   = []byte("\x7fELF\x02\x01\x01\x00rest")
	machoHeader = []byte{0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1}
	oleWithVBA  = append(append(append([]byte{}, ole2Magic...), make([]byte, 700)...), vbaMarker...)
	oleClean    = append(append([]byte{}, ole2Magic...), make([]byte, 700)...)
)

func TestAttachmentPolicy(t *testing.T) {
	p := &AttachmentPolicy{BlockedExtensions: []string{"iso"}}
	innerZip := zipOf(t, map[string][]byte{"deep/tool.bin": elfHeader})
	for _, tc := range []struct {
		name string
		msg  []byte
		want string // Kind, "" for none
	}{
		{"exe by name", withAttachment("application/octet-stream", `attachment; filename="invoice.pdf.exe"`, []byte("x")), "executable"},
		{"exe by name, trailing dot", withAttachment("application/octet-stream", `attachment; filename="invoice.exe."`, []byte("x")), "executable"},
		{"exe by type name param", withAttachment(`application/octet-stream; name="setup.EXE"`, "", []byte("x")), "executable"},
		{"exe by RFC 2231 name", withAttachment("application/octet-stream", `attachment; filename*=utf-8''r%C3%A9sum%C3%A9.scr`, []byte("x")), "executable"},
		{"exe by RFC 2047 name", withAttachment("application/octet-stream", `attachment; filename="=?utf-8?q?rechnung=2Ejs?="`, []byte("x")), "script"},
		{"PE by magic", withAttachment("application/pdf", `attachment; filename="report.pdf"`, peHeader), "executable"},
		{"ELF by magic", withAttachment("application/octet-stream", "", elfHeader), "executable"},
		{"Mach-O by magic", withAttachment("application/octet-stream", `attachment; filename="a"`, machoHeader), "executable"},
		{"shebang", withAttachment("text/plain", `attachment; filename="notes.txt"`, []byte("#!/bin/sh\nrm -rf ~\n")), "script"},
		{"script by type", withAttachment("application/x-sh", "", []byte("echo")), "script"},
		{"exe in zip", withAttachment("application/zip", `attachment; filename="docs.zip"`, zipOf(t, map[string][]byte{"readme.txt": []byte("hi"), "run.exe": []byte("x")})), "executable"},
		{"PE in zip under an innocent name", withAttachment("application/zip", `attachment; filename="docs.zip"`, zipOf(t, map[string][]byte{"photo.jpg": peHeader})), "executable"},
		{"ELF in nested zip", withAttachment("application/octet-stream", `attachment; filename="outer.zip"`, zipOf(t, map[string][]byte{"inner.zip": innerZip})), "executable"},
		{"docm by name", withAttachment("application/octet-stream", `attachment; filename="report.docm"`, []byte("x")), "macro"},
		{"xlsm by type", withAttachment("application/vnd.ms-excel.sheet.macroEnabled.12", "", []byte("x")), "macro"},
		{"docx with vbaProject.bin", withAttachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", `attachment; filename="report.docx"`,
			zipOf(t, map[string][]byte{"[Content_Types].xml": []byte("<Types/>"), "word/document.xml": []byte("<w/>"), "word/vbaProject.bin": oleWithVBA})), "macro"},
		{"doc with VBA", withAttachment("application/msword", `attachment; filename="old.doc"`, oleWithVBA), "macro"},
		{"configured extension", withAttachment("application/octet-stream", `attachment; filename="disk.ISO"`, []byte("x")), "blocked"},
		{"forwarded message with exe", []byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: message/rfc822\r\n\r\n" +
			string(withAttachment("application/octet-stream", `attachment; filename="a.exe"`, []byte("x"))) + "\r\n--X--\r\n"), "executable"},

		{"pdf", withAttachment("application/pdf", `attachment; filename="report.pdf"`, []byte("%PDF-1.7\n")), ""},
		{"plain docx", withAttachment("application/vnd.openxmlformats-officedocument.wordprocessingml.document", `attachment; filename="report.docx"`,
			zipOf(t, map[string][]byte{"word/document.xml": []byte("<w/>")})), ""},
		{"doc without macros", withAttachment("application/msword", `attachment; filename="old.doc"`, oleClean), ""},
		{"zip of photos", withAttachment("application/zip", `attachment; filename="photos.zip"`, zipOf(t, map[string][]byte{"a.jpg": []byte("\xff\xd8\xff\xe0"), "b.png": []byte("\x89PNG")})), ""},
		{"inline text starting with MZ", []byte("Subject: x\r\nContent-Type: text/plain\r\n\r\nMZ is my name\r\n"), ""},
		{"not MIME at all", []byte("Subject: x\r\n\r\n#!not a script, a hashtag\r\n"), ""},
		{"malformed multipart", []byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: text/plain\r\n\r\nunterminated"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			found, _ := p.Scan(bytes.NewReader(tc.msg))
			got := ""
			if found != nil {
				got = found.Kind
			}
			if got != tc.want {
				t.Fatalf("found %v, want %q", found, tc.want)
			}
			parsed, err := message.Parse(bytes.NewReader(tc.msg), int64(len(tc.msg)))
			if err != nil {
				t.Fatal(err)
			}
			d := p.check(bytes.NewReader(tc.msg), parsed)
			if tc.want != "" {
				if len(d) != 1 || d[0].code != 554 || d[0].enhanced != [3]int{5, 7, 1} || d[0].text != "Message rejected: attachment type not allowed" {
					t.Fatalf("decision %+v", d)
				}
			}
		})
	}
}

func TestAttachmentPolicyBounds(t *testing.T) {
	// More parts than MaxParts: the walk stops without finding the executable after them.
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=X\r\n\r\n")
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&b, "--X\r\nContent-Type: text/plain\r\n\r\npart %d\r\n", i)
	}
	b.WriteString("--X\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=a.exe\r\n\r\nx\r\n--X--\r\n")
	if found, _ := (&AttachmentPolicy{MaxParts: 10}).Scan(strings.NewReader(b.String())); found != nil {
		t.Fatalf("walked past MaxParts: %v", found)
	}
	if found, _ := (&AttachmentPolicy{}).Scan(strings.NewReader(b.String())); found == nil {
		t.Fatal("default bound missed the executable")
	}
	// An attachment larger than the memory spool goes through a temporary file.
	files := map[string][]byte{"big.bin": bytes.Repeat([]byte{1}, memSpoolLimit+1000), "z.exe": []byte("x")}
	msg := withAttachment("application/zip", `attachment; filename="big.zip"`, zipOf(t, files))
	if found, err := (&AttachmentPolicy{TempDir: t.TempDir()}).Scan(bytes.NewReader(msg)); found == nil || found.Kind != "executable" {
		t.Fatalf("spooled zip: %v %v", found, err)
	}
}

func TestAttachmentSharedSamples(t *testing.T) {
	// The EICAR test file is a DOS .com program: both its name and its zip are refused.
	dir := filepath.Join(testutil.SharedTestdata(t, "clamav"), "samples")
	p := &AttachmentPolicy{}
	for file, want := range map[string]string{"eicar-zip-attachment.eml": "executable", "clean.eml": ""} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		found, _ := p.Scan(bytes.NewReader(data))
		got := ""
		if found != nil {
			got = found.Kind
		}
		if got != want {
			t.Errorf("%s: found %v, want %q", file, found, want)
		}
	}
}

// FuzzAttachments: any input is walked without a panic, within the bounds.
func FuzzAttachments(f *testing.F) {
	f.Add(withAttachment("application/zip", `attachment; filename="a.zip"`, zipOf(f, map[string][]byte{"x.exe": []byte("MZ")})))
	f.Add(withAttachment("application/msword", `attachment; filename="a.doc"`, oleWithVBA))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=X\r\n\r\n--X\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/mixed; boundary=Y\r\n\r\n--Y\r\n\r\n--Y--\r\n--X--\r\n"))
	dir := filepath.Join(testutil.SharedTestdata(f, "clamav"), "samples")
	for _, file := range []string{"eicar-zip-attachment.eml", "eicar-attachment.eml", "clean.eml"} {
		data, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// The shared MIME corpus: odd, malformed and real-world structures.
	root := testutil.SharedTestdata(f, "mime")
	if err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err == nil && len(data) <= 64<<10 {
			f.Add(data)
		}
		return err
	}); err != nil {
		f.Fatal(err)
	}
	p := &AttachmentPolicy{MaxParts: 100, MaxZipEntries: 100}
	f.Fuzz(func(t *testing.T, data []byte) {
		found, _ := p.Scan(bytes.NewReader(data))
		if found != nil && found.Kind == "" {
			t.Fatalf("finding without kind: %+v", found)
		}
	})
}
