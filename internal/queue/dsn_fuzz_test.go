package queue

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// FuzzNotice writes failure notices whose envelope id, original recipient and remote reply
// come from the fuzzer (they come from a submitting client and a remote server in real life):
// the notice must always parse as RFC 3464 with exactly one recipient block, and nothing they
// hold may become a field of its own.
func FuzzNotice(f *testing.F) {
	f.Add("env-1", "rfc822;bob@remote.example", "550 5.1.1 no such user", "FULL")
	f.Add("x\r\nInjected: yes", "rfc822;a\r\n\r\nFinal-Recipient: rfc822; evil@example", "451 4.0.0 multi\r\n\r\n--b--", "HDRS")
	env := mailenv.New(f, "mx.example.org")
	w, err := env.Committer.NewDraft(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	defer w.Abort()
	fmt.Fprint(w, "From: <alice@example.org>\r\nSubject: original\r\n\r\nbody\r\n")
	original, err := w.Commit(context.Background(), delivery.Message{
		Outbound: []store.Outbound{{Sender: "alice@example.org", Recipient: "bob@remote.example"}}})
	if err != nil {
		f.Fatal(err)
	}
	s := &Scheduler{Hostname: "mx.example.org", Bodies: env.Blobs.Bodies(), Lifetime: DefaultLifetime, Now: time.Now}
	f.Fuzz(func(t *testing.T, envID, orcpt, text, ret string) {
		q := store.QueuedMessage{BlobID: original.BodyID, Size: original.Size, QueuedAt: time.Now(), Outbound: store.Outbound{
			Sender: "alice@example.org", Recipient: "bob@remote.example", EnvID: envID, ORcpt: orcpt, Ret: ret}}
		var buf bytes.Buffer
		err := s.writeDSN(&buf, dsnFailed, []dsnRecipient{{q: q, f: &failure{Permanent: true, Code: 550,
			Status: "5.1.1", Text: text, RemoteMTA: "mx.remote.example"}}})
		if err != nil {
			t.Fatal(err)
		}
		r := parseDSN(t, buf.String())
		if len(r.recipients) != 1 {
			t.Fatalf("%d recipient blocks:\n%s", len(r.recipients), buf.String())
		}
		rf := r.recipients[0]
		if rf.Get("Final-Recipient") != "rfc822; bob@remote.example" || rf.Get("Action") != "failed" ||
			rf.Get("Status") != "5.1.1" || len(rf["Final-Recipient"]) != 1 {
			t.Fatalf("recipient block %v", rf)
		}
		if r.perMessage.Get("Injected") != "" || r.perMessage.Get("Reporting-Mta") != "dns; mx.example.org" {
			t.Fatalf("per-message fields %v", r.perMessage)
		}
	})
}
