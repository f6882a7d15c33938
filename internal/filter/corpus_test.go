package filter

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"posthorn/internal/testutil"
)

// TestAttachmentPolicyOnCorpora walks every message of the shared MIME corpus (odd, malformed
// and real-world messages) and of the labelled ham corpus (2,819 messages people wanted): the
// walker must not crash, and refuse only the three that do carry a file the policy refuses.
// Those three start with a line that is no header field (an mbox "From " line, a truncated
// Received field), which a MIME reader that gives up on such a header would never walk past.
func TestAttachmentPolicyOnCorpora(t *testing.T) {
	for _, root := range []string{testutil.SharedTestdata(t, "mime"), filepath.Join(testutil.SharedTestdata(t, "spam"), "ham")} {
		walkCorpus(t, root)
	}
}

// carryingFiles are the corpus messages that carry what the policy refuses: a virus sample
// (an executable in a zip) and two messages of the ham corpus with a shell script attached.
var carryingFiles = map[string]string{
	"mail-parser/mail_malformed_1":                          `executable "20160523_916527.jpg_.zip/20160523_211439.jpg_.jpg.exe" by extension`,
	"easy-ham-1-00993.041d0d8e108657fd1ba5c605a10e2bfa.txt": `script "swasort" by magic`,
	"easy-ham-1-01561.4d9ed1a0103b1a90cfd91921b9014124.txt": `script "rotate" by magic`,
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func walkCorpus(t *testing.T, root string) {
	refused := map[string]string{}
	p := &AttachmentPolicy{}
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		found, _ := p.Scan(bytes.NewReader(data))
		if found != nil {
			rel, _ := filepath.Rel(root, path)
			refused[rel] = found.String()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for file, why := range refused {
		if want, ok := carryingFiles[file]; !ok || want != why {
			t.Errorf("%s refused: %s", file, why)
		}
	}
	for file, want := range carryingFiles {
		if exists(filepath.Join(root, file)) && refused[file] != want {
			t.Errorf("%s: refused for %q, want %s", file, refused[file], want)
		}
	}
	if n < 200 {
		t.Fatalf("only %d messages in %s", n, root)
	}
}
