package importer

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/imapserver"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
)

// storedMessage is what an import must keep of a message: octets, flags, internal date.
type storedMessage struct {
	body  string
	flags string
	date  time.Time
}

// mailboxContents is a mailbox's messages, sorted, for comparison.
func mailboxContents(t *testing.T, env *mailenv.Env, acc store.Account, name string) []storedMessage {
	t.Helper()
	mb, err := env.Store.GetMailbox(t.Context(), acc.ID, name)
	if err != nil {
		t.Fatalf("mailbox %s: %v", name, err)
	}
	msgs, err := env.Store.ListMessages(t.Context(), mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	var out []storedMessage
	for _, m := range msgs {
		flags := slices.Clone(m.Flags)
		slices.Sort(flags)
		out = append(out, storedMessage{body: readBody(t, env, m.BlobID), flags: strings.Join(flags, " "),
			date: m.InternalDate.UTC().Truncate(time.Second)})
	}
	slices.SortFunc(out, func(a, b storedMessage) int { return strings.Compare(a.body, b.body) })
	return out
}

// deliverAt stores a message with flags and an internal date.
func deliverAt(t *testing.T, env *mailenv.Env, acc store.Account, mailbox, text string, date time.Time, flags ...string) {
	t.Helper()
	draft, err := env.Committer.NewDraft(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer draft.Abort()
	if _, err := io.WriteString(draft, text); err != nil {
		t.Fatal(err)
	}
	if _, err := draft.Commit(t.Context(), delivery.Message{InternalDate: date,
		Targets: []store.Target{{AccountID: acc.ID, Mailbox: mailbox, Flags: flags}}}); err != nil {
		t.Fatal(err)
	}
}

// startPosthornIMAP serves env's store over IMAP on a loopback port.
func startPosthornIMAP(t *testing.T, env *mailenv.Env) string {
	t.Helper()
	srv := &imapserver.Server{Hostname: "source.example.org", Store: env.Store, Bodies: env.Blobs.Bodies(),
		Committer: env.Committer, Auth: credentials.NewAuthenticator(env.Store, env.Logger, prometheus.NewRegistry()),
		Logger: env.Logger, TLSConfig: env.TLSConfig, AllowInsecureAuth: true}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return l.Addr().String()
}

// TestImportIMAPFromPosthorn: every folder of a second posthorn, a special-use folder by
// another name, flags, keywords and internal dates kept; a second run copies nothing.
func TestImportIMAPFromPosthorn(t *testing.T) {
	source := mailenv.New(t, "source.example.org")
	ctx := t.Context()
	if err := source.Store.RenameMailbox(ctx, source.Alice.ID, "Sent", "Gesendet"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Work", "Work/Projects", "Café"} {
		if _, err := source.Store.CreateMailbox(ctx, source.Alice.ID, name, ""); err != nil {
			t.Fatal(err)
		}
	}
	folders := []string{"INBOX", "Gesendet", "Work", "Work/Projects", "Café"}
	flagSets := [][]string{nil, {`\Seen`}, {`\Seen`, `\Answered`}, {`\Flagged`, "$Label1"}, {`\Draft`}, {`\Deleted`, `\Seen`}}
	n := 0
	for i, folder := range folders {
		for j := range 7 + 30*btoiTest(i == 0) { // INBOX needs more than one batch
			date := time.Date(2024, time.Month(1+j%12), 1+i, 10, j%60, 7, 0, time.FixedZone("", 2*3600))
			text := fmt.Sprintf("From: x@example.net\r\nSubject: %s %d\r\n\r\nbody %d\r\n", folder, j, n)
			deliverAt(t, source, source.Alice, folder, text, date, flagSets[n%len(flagSets)]...)
			n++
		}
	}
	addr := startPosthornIMAP(t, source)

	env, im := newEnv(t)
	src := &IMAP{Addr: addr, User: "alice@example.org", Password: mailenv.Password, Security: PlainLoopback, BatchSize: 10}
	sum, err := im.Import(ctx, src, "alice@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Copied != int64(n) || sum.Skipped != 0 {
		t.Fatalf("summary %v, want %d copied", sum, n)
	}
	for _, folder := range folders {
		local := folder
		if folder == "Gesendet" {
			local = "Sent" // by its \Sent attribute
		}
		want := mailboxContents(t, source, source.Alice, folder)
		got := mailboxContents(t, env, env.Alice, local)
		if !slices.Equal(got, want) {
			t.Fatalf("%s: got %v\nwant %v", local, got, want)
		}
	}
	sum, err = im.Import(ctx, src, "alice@example.org", "")
	if err != nil || sum.Copied != 0 || sum.Skipped != int64(n) {
		t.Fatalf("second run: %v %v", sum, err)
	}

	// STARTTLS with the source's certificate trusted, and a wrong password refused.
	tlsSrc := &IMAP{Addr: addr, User: "alice@example.org", Password: mailenv.Password, Security: StartTLS,
		TLSConfig: source.TLSConfig.Clone()}
	tlsSrc.TLSConfig.InsecureSkipVerify = true // the test certificate names no loopback address
	if sum, err = im.Import(ctx, tlsSrc, "alice@example.org", ""); err != nil || sum.Skipped != int64(n) {
		t.Fatalf("over STARTTLS: %v %v", sum, err)
	}
	bad := &IMAP{Addr: addr, User: "alice@example.org", Password: "wrong", Security: PlainLoopback}
	if _, err := im.Import(ctx, bad, "alice@example.org", ""); err == nil || !strings.Contains(err.Error(), "login refused") {
		t.Fatalf("wrong password: %v", err)
	}
}

func btoiTest(b bool) int {
	if b {
		return 1
	}
	return 0
}
