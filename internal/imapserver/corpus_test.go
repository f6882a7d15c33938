package imapserver

import (
	"bytes"
	"crypto/tls"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"posthorn/internal/testutil"
)

// TestCorpusServedBack delivers every file of the shared MIME corpus (shared/testdata/mime:
// other parsers' test messages, malformed ones and some that are no messages at all) and
// fetches each with go-imap's client: BODY[] must be the stored octets (a NUL goes as 0x80, as
// a literal cannot hold one), and ENVELOPE and BODYSTRUCTURE must parse.
func TestCorpusServedBack(t *testing.T) {
	root := testutil.SharedTestdata(t, "mime")
	h := newHarness(t)
	var files []string
	var want [][]byte
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil || len(raw) == 0 {
			return err
		}
		h.deliver(h.alice, "INBOX", string(raw))
		files = append(files, path)
		want = append(want, bytes.ReplaceAll(raw, []byte{0}, []byte{0x80}))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := imapclient.DialTLS(h.tlsAddr, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("alice@example.org", testPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	for i, path := range files {
		rel, _ := filepath.Rel(root, path)
		msgs, err := c.Fetch(imap.SeqSetNum(uint32(i+1)), &imap.FetchOptions{
			Envelope: true, BodyStructure: &imap.FetchItemBodyStructure{Extended: true},
			BodySection: []*imap.FetchItemBodySection{{Peek: true}},
		}).Collect()
		if err != nil {
			t.Fatalf("%s: FETCH: %v", rel, err)
		}
		m := msgs[0]
		if got := m.FindBodySection(&imap.FetchItemBodySection{}); !bytes.Equal(got, want[i]) {
			t.Errorf("%s: BODY[] differs from the stored message (%d octets, want %d)", rel, len(got), len(want[i]))
		}
		if m.Envelope == nil || m.BodyStructure == nil {
			t.Errorf("%s: no ENVELOPE or BODYSTRUCTURE", rel)
		}
	}
	t.Logf("%d corpus messages served back", len(files))
}
