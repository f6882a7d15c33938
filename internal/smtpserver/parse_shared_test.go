package smtpserver

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/filter"
	"posthorn/internal/message"
	"posthorn/internal/testutil"
)

// TestFilteredParseIsTheStoredMessages: with the filter on, the message is parsed once, on its
// spool, and that parse, resized for the header fields the filter adds on top and the forged
// Authentication-Results it removes, is what the commit stores. For every message of the shared
// MIME corpus (odd, malformed and real-world structures), half of them with a forged
// Authentication-Results field of ours on top, the stored envelope and structure (IMAP's
// ENVELOPE, BODYSTRUCTURE and section offsets) are byte for byte those of a fresh parse of the
// stored message.
func TestFilteredParseIsTheStoredMessages(t *testing.T) {
	f := authFilter(t)
	f.Attachments = &filter.AttachmentPolicy{}
	f.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h := newHarness(t, func(s *Server) {
		s.Filter = f
		s.MaxMessageBytes = 1 << 20
	})
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	root := testutil.SharedTestdata(t, "mime")
	sent := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil || len(data) > 256<<10 || bytes.IndexByte(data, 0) >= 0 {
			return err
		}
		msg := strings.ReplaceAll(string(data), "\r\n", "\n")
		for _, l := range strings.Split(msg, "\n") {
			if len(l) > 990 {
				return nil // longer than SMTP allows (RFC 5321 §4.5.3.1.6)
			}
		}
		if sent%2 == 0 {
			msg = "Authentication-Results: mx.example.org; dmarc=pass header.from=bank.example\n" + msg
		}
		sent++
		c.cmd("MAIL FROM:<news@ok.example>", "250 ")
		c.cmd("RCPT TO:<alice@example.org>", "250 ")
		c.cmd("DATA", "354 ")
		for _, l := range strings.Split(strings.TrimSuffix(msg, "\n"), "\n") {
			if strings.HasPrefix(l, ".") {
				l = "." + l
			}
			c.send(l)
		}
		c.send(".")
		c.reply() // refusals (a bare CR, an attachment) leave nothing to compare
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	acc, err := h.store.GetAccount(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := h.store.GetMailbox(ctx, acc.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := h.store.ListMessages(ctx, mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) < sent*3/4 {
		t.Fatalf("stored %d of %d messages", len(msgs), sent)
	}
	for _, m := range msgs {
		f, err := h.blobs.Open(m.BlobID)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		parsed, err := message.Parse(bytes.NewReader(body), int64(len(body)))
		if err != nil {
			t.Fatal(err)
		}
		env, structure, err := parsed.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(env, m.Envelope) || !bytes.Equal(structure, m.Structure) {
			t.Errorf("message %d: stored envelope or structure differs from a parse of the stored message:\n%.600s", m.UID, body)
		}
	}
}
