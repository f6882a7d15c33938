package filter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/clamdtest"
)

func TestClamdScansSamples(t *testing.T) {
	clamd := clamdtest.Start(t)
	c := &Clamd{Address: clamd.Address, Timeout: 10 * time.Second}
	for _, tc := range []struct {
		file, want string
	}{
		{"eicar.com", "Posthorn.Test.EICAR"},
		{"eicar.zip", "Posthorn.Test.EICAR"},
		{"eicar-attachment.eml", "Posthorn.Test.EICAR"},
		{"eicar-zip-attachment.eml", "Posthorn.Test.EICAR"},
		{"clean.eml", ""},
	} {
		data, err := os.ReadFile(filepath.Join(clamd.Samples, tc.file))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := c.Scan(context.Background(), bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if tc.want == "" && sig != "" || !strings.HasPrefix(sig, tc.want) {
			t.Errorf("%s: signature %q, want %q", tc.file, sig, tc.want)
		}
	}
	// A message longer than one chunk, with the test string in its last chunk.
	eicar, _ := os.ReadFile(filepath.Join(clamd.Samples, "eicar.com"))
	big := append(bytes.Repeat([]byte("0123456789abcdef"), (3*chunkSize)/16+5), eicar...)
	if sig, err := c.Scan(context.Background(), bytes.NewReader(big)); err != nil || sig == "" {
		t.Fatalf("multi-chunk: %q, %v", sig, err)
	}
}

func TestClamdUnavailable(t *testing.T) {
	clamd := clamdtest.Start(t)
	clamd.Stop()
	c := &Clamd{Address: clamd.Address, Timeout: time.Second}
	if _, err := c.Scan(context.Background(), strings.NewReader("x")); !errors.Is(err, ErrClamdUnavailable) {
		t.Fatalf("stopped clamd: %v", err)
	}
	// A clamd that accepts and never answers times out.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	c = &Clamd{Address: l.Addr().String(), Timeout: 200 * time.Millisecond}
	start := time.Now()
	if _, err := c.Scan(context.Background(), strings.NewReader("x")); !errors.Is(err, ErrClamdUnavailable) {
		t.Fatalf("silent clamd: %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("timeout took %v", took)
	}
}

func TestParseClamdReply(t *testing.T) {
	for reply, want := range map[string]string{
		"stream: OK":                         "",
		"stream: Eicar-Test-Signature FOUND": "Eicar-Test-Signature",
	} {
		if got, err := parseReply(reply); err != nil || got != want {
			t.Errorf("%q: %q, %v", reply, got, err)
		}
	}
	if _, err := parseReply("INSTREAM size limit exceeded. ERROR"); !errors.Is(err, ErrClamdUnavailable) {
		t.Errorf("ERROR reply: %v", err)
	}
}

func TestVirusVerdicts(t *testing.T) {
	clamd := clamdtest.Start(t)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &Filter{Logger: logger, Clamd: &Clamd{Address: clamd.Address, Timeout: 5 * time.Second}}
	verdict := func(file string) Verdict {
		data, err := os.ReadFile(filepath.Join(clamd.Samples, file))
		if err != nil {
			t.Fatal(err)
		}
		tx := f.Mail(context.Background(), Envelope{IP: net.ParseIP("192.0.2.1"), From: "a@example.org"})
		defer tx.Close()
		return tx.Data(context.Background(), bytes.NewReader(data), int64(len(data)), []int64{1})
	}
	v := verdict("eicar-attachment.eml")
	if v.Action != Reject || v.Reply() != "554 5.7.1" || strings.Contains(v.Text, "EICAR") || !strings.Contains(v.ReasonNames(), "virus(Posthorn.Test.EICAR") {
		t.Fatalf("eicar: %+v", v)
	}
	if v := verdict("eicar-zip-attachment.eml"); v.Action != Reject || v.Result() != "virus" {
		t.Fatalf("eicar in zip: %+v", v)
	}
	if v := verdict("clean.eml"); v.Action != Accept || len(v.Reasons) != 0 || len(v.Headers) != 0 {
		t.Fatalf("clean: %+v", v)
	}
	clamd.Stop()
	if v := verdict("clean.eml"); v.Action != TempFail || v.Reply() != "451 4.7.1" {
		t.Fatalf("clamd stopped: %+v", v)
	}
	f.Clamd.MaxSize = 10
	if v := verdict("eicar-attachment.eml"); v.Action != Accept || v.ReasonNames() != "virus-scan-skipped(size)" {
		t.Fatalf("over the scan size: %+v", v)
	}
	f.Clamd.MaxSize = 0
	f.ClamdFailOpen = true
	v = verdict("clean.eml")
	if v.Action != Accept || len(v.Headers) != 1 || v.Headers[0] != (Header{"X-Posthorn-Virus-Scan", "unavailable"}) {
		t.Fatalf("clamd stopped, fail open: %+v", v)
	}
}

// TestClamdSessions: scans reuse one IDSESSION connection, in turn and in parallel (one scan
// at a time per session), each getting its own result; a session clamd closed while it was
// idle (after its ReadTimeout, with a line that is no reply) is replaced without the scan
// noticing.
func TestClamdSessions(t *testing.T) {
	clamd := clamdtest.Start(t, "ReadTimeout 3")
	c := &Clamd{Address: clamd.Address, Timeout: 10 * time.Second}
	t.Cleanup(func() { c.Close() })
	eicar, err := os.ReadFile(filepath.Join(clamd.Samples, "eicar-attachment.eml"))
	if err != nil {
		t.Fatal(err)
	}
	clean, err := os.ReadFile(filepath.Join(clamd.Samples, "clean.eml"))
	if err != nil {
		t.Fatal(err)
	}
	scan := func(data []byte) string {
		t.Helper()
		sig, err := c.Scan(context.Background(), bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return sig
	}
	idle := func() []*clamdSession {
		c.mu.Lock()
		defer c.mu.Unlock()
		return append([]*clamdSession(nil), c.idle...)
	}
	for i := range 3 {
		if sig := scan(clean); sig != "" {
			t.Fatalf("clean scan %d: %q", i, sig)
		}
	}
	if sig := scan(eicar); !strings.HasPrefix(sig, "Posthorn.Test.EICAR") {
		t.Fatalf("eicar: %q", sig)
	}
	sessions := idle()
	if len(sessions) != 1 || sessions[0].sent != 4 {
		t.Fatalf("4 scans in turn: idle sessions %d, want 1 that ran 4 commands", len(sessions))
	}

	// clamd closes the idle session after its ReadTimeout (3 s: long enough that the scans above,
	// one after another, keep one session even on a loaded machine).
	first := sessions[0]
	if err := first.conn.SetReadDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	// Peeked, not read: what clamd said before closing ("COMMAND READ TIMED OUT\n") stays
	// for the next scan to read, as it would without the test.
	if _, err := first.r.Peek(first.r.Size()); !errors.Is(err, io.EOF) {
		t.Fatalf("waiting for clamd to close the idle session: %v", err)
	}
	if sig := scan(eicar); !strings.HasPrefix(sig, "Posthorn.Test.EICAR") {
		t.Fatalf("eicar after clamd closed the session: %q", sig)
	}
	if sessions := idle(); len(sessions) != 1 || sessions[0] == first || sessions[0].sent != 1 {
		t.Fatalf("after the reconnect: %d idle sessions", len(sessions))
	}

	// In parallel: at most one session per concurrent scan, each scan its own answer.
	errs := make(chan error, 16)
	for i := range 16 {
		go func() {
			data, want := clean, ""
			if i%2 == 1 {
				data, want = eicar, "Posthorn.Test.EICAR"
			}
			sig, err := c.Scan(context.Background(), bytes.NewReader(data))
			if err == nil && !strings.HasPrefix(sig, want) || want == "" && sig != "" {
				err = fmt.Errorf("scan %d: %q, want %q", i, sig, want)
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(idle()); n < 1 || n > c.maxIdle() {
		t.Fatalf("idle sessions after parallel scans: %d", n)
	}
}
