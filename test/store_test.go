package test

import (
	"context"
	"io"
	"path/filepath"

	"posthorn/internal/app"
	"posthorn/internal/config"
)

// Inbox returns the bodies of the messages in account's INBOX, in UID order, read straight
// from the data directory (the server may be running: SQLite's WAL allows a second reader).
func (s *Server) Inbox(account string) []string {
	return s.Mailbox(account, "INBOX")
}

// Mailbox returns the bodies of one mailbox of an account, in UID order.
func (s *Server) Mailbox(account, mailbox string) []string {
	s.t.Helper()
	ctx := context.Background()
	d := s.openData()
	defer d.Close()
	acc, err := d.Store.GetAccount(ctx, account)
	if err != nil {
		s.t.Fatalf("account %s: %v", account, err)
	}
	mb, err := d.Store.GetMailbox(ctx, acc.ID, mailbox)
	if err != nil {
		s.t.Fatal(err)
	}
	msgs, err := d.Store.ListMessages(ctx, mb.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		f, err := d.Blobs.Open(m.BlobID)
		if err != nil {
			s.t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			s.t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}

func (s *Server) openData() *app.Data {
	s.t.Helper()
	cfg := config.Default()
	cfg.DataDir = filepath.Join(s.Dir, "data")
	d, err := app.OpenData(context.Background(), cfg)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}
