package spam

import (
	"bytes"
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"posthorn/internal/blob"
	"posthorn/internal/dns"
	"posthorn/internal/store"
	"posthorn/internal/testutil/dnstest"
)

// putBlob stores a message body and returns its id.
func putBlob(t *testing.T, fs *blob.FS, data []byte) string {
	t.Helper()
	w, err := fs.Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := fs.SyncAll(context.Background(), []*blob.Writer{w}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.ID()
}

// TestTrainerJunkMoves: moves into Junk train spam, a move back unlearns it and trains ham,
// each move is trained once, and a move of a deleted message is consumed without training.
func TestTrainerJunkMoves(t *testing.T) {
	st, alice := openStore(t)
	blobs, err := blob.OpenFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	ctx := context.Background()
	offer := msg("From: shop@offers.example\nSubject: big sale\nDate: x\nMessage-ID: <1@x>", "big sale on everything")
	letter := msg("From: bob@example.net\nSubject: lunch\nDate: x\nMessage-ID: <2@x>", "lunch tomorrow?")
	a, b := putBlob(t, blobs, offer), putBlob(t, blobs, letter)
	gone := "20260101-000000000000000000000000"
	move := func(id string, toJunk bool) {
		t.Helper()
		if err := st.RecordJunkMove(ctx, alice.ID, id, toJunk, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	c := New(st, nil, st, nil, Config{}, nil)
	tr := &Trainer{Feed: st, Blobs: blobs, Classifier: c}
	round := func(want int) {
		t.Helper()
		n, err := tr.TrainPending(ctx)
		if err != nil || n != want {
			t.Fatalf("trained %d (%v), want %d", n, err, want)
		}
	}
	totals := func(want store.SpamCounts) {
		t.Helper()
		g, acc, err := st.SpamTotals(ctx, alice.ID)
		if err != nil || g != want || acc != want {
			t.Fatalf("totals %v %v (%v), want %v in both", g, acc, err, want)
		}
	}
	move(a, true)
	move(b, true)
	move(gone, true)
	round(2)
	totals(store.SpamCounts{Spam: 2})
	round(0) // nothing twice
	totals(store.SpamCounts{Spam: 2})
	move(b, false) // the letter was not spam after all
	round(1)
	totals(store.SpamCounts{Spam: 1, Ham: 1})
	toks, err := Tokenize(bytes.NewReader(letter), int64(len(letter)))
	if err != nil {
		t.Fatal(err)
	}
	lunch := hashToken("lunch")
	if _, ok := toks.seen["lunch"]; !ok {
		t.Fatal("no token lunch")
	}
	g, _, err := st.SpamTokens(ctx, alice.ID, []uint64{lunch})
	if err != nil || g[lunch] != (store.SpamCounts{Ham: 1}) {
		t.Errorf("token lunch: %v (%v), want only ham", g, err)
	}
	if err := c.FlushCorrespondents(ctx); err != nil {
		t.Fatal(err)
	}
	if known, _, err := st.KnownCorrespondent(ctx, alice.ID, "bob@example.net"); err != nil || !known {
		t.Errorf("the sender of a message moved out of Junk is a correspondent: %v %v", known, err)
	}
}

// TestTrainerRun trains in the background until its context ends.
func TestTrainerRun(t *testing.T) {
	st, alice := openStore(t)
	blobs, err := blob.OpenFS(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- (&Trainer{Feed: st, Blobs: blobs, Interval: 10 * time.Millisecond}).Run(ctx) }()
	id := putBlob(t, blobs, msg("From: a@b.example\nSubject: x", "some text"))
	if err := st.RecordJunkMove(ctx, alice.ID, id, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		g, _, err := st.SpamTotals(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Spam == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the trainer did not train the move")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestBlocklists looks the client address up in a DNSBL and the URL domains in a URIBL,
// through a real DNS server on loopback.
func TestBlocklists(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{
		"2.2.0.192.dnsbl.example.":   {"2.2.0.192.dnsbl.example. 300 IN A 127.0.0.2"},
		"3.2.0.192.dnsbl.example.":   {"3.2.0.192.dnsbl.example. 300 IN A 127.255.255.254"}, // an error code
		"bad.example.uribl.example.": {"bad.example.uribl.example. 300 IN A 127.0.0.2"},
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl.example.": {
			"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.dnsbl.example. 300 IN A 127.0.0.4"},
	})
	srv.SetFailure("slow.example.uribl.example.", dnstest.ServFail)
	c := New(NewMemoryModel(), nil, nil, dnsResolver(srv.Addr), Config{DNSBLZones: []string{"dnsbl.example"}, URIBLZones: []string{"uribl.example"}}, nil)
	body := "see http://www.bad.example/offer and https://good.example/ and http://slow.example/"
	m := msg("From: a@b.example\nDate: x\nMessage-ID: <1@x>", body)
	for _, tc := range []struct {
		ip   string
		want string
	}{
		{"192.0.2.2", "dnsbl:dnsbl.example=3.0 uribl:uribl.example=3.0"},
		{"192.0.2.3", "uribl:uribl.example=3.0"},
		{"2001:db8::1", "dnsbl:dnsbl.example=3.0 uribl:uribl.example=3.0"},
	} {
		sc := classify(t, c, 0, m, Signals{ClientIP: mustAddr(tc.ip)})
		if got := sc.String(); got != "6.0 "+tc.want && got != "3.0 "+tc.want {
			t.Errorf("%s: %s, want %s", tc.ip, got, tc.want)
		}
	}
}

func dnsResolver(addr string) dns.Resolver { return dns.New(addr) }

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
