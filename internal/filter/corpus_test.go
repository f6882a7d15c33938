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
// and real-world messages) and of the labelled ham corpus (2,819 messages people wanted), none
// carrying an executable, a script or a macro: the walker must neither crash nor refuse any.
func TestAttachmentPolicyOnCorpora(t *testing.T) {
	for _, root := range []string{testutil.SharedTestdata(t, "mime"), filepath.Join(testutil.SharedTestdata(t, "spam"), "ham")} {
		walkCorpus(t, root)
	}
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
		t.Errorf("%s refused: %s", file, why)
	}
	if n < 200 {
		t.Fatalf("only %d messages in %s", n, root)
	}
}
