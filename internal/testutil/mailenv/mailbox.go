package mailenv

import (
	"context"
	"io"

	"posthorn/internal/store"
)

// Mailbox returns the texts of the messages in one mailbox of acc, in UID order.
func (e *Env) Mailbox(acc store.Account, name string) []string {
	e.t.Helper()
	ctx := context.Background()
	mb, err := e.Store.GetMailbox(ctx, acc.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.Store.ListMessages(ctx, mb.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		f, err := e.Blobs.Open(m.BlobID)
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}
