package main

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestCorpus: messages are deterministic, well-formed, 2 to 4 KiB, and the default search
// terms find what the corpus promises: the header term in a few percent of the subjects, the
// body term in about 0.1% of the bodies and nowhere else.
func TestCorpus(t *testing.T) {
	if corpusCode(42) != defaultBodyTerm {
		t.Errorf("code 42 is %q, the default body term %q", corpusCode(42), defaultBodyTerm)
	}
	if !slices.Contains(subjectWords, defaultHeaderTerm) {
		t.Errorf("the default header term %q is not a subject word", defaultHeaderTerm)
	}
	codes := map[string]bool{}
	for k := range corpusCodes {
		codes[corpusCode(k)] = true
	}
	if len(codes) != corpusCodes {
		t.Errorf("%d distinct codes, want %d", len(codes), corpusCodes)
	}

	const n = 5000
	var inSubject, inBody int
	for i := range n {
		msg, date := corpusMessage(7, i, "u1@test.example")
		again, _ := corpusMessage(7, i, "u1@test.example")
		if !bytes.Equal(msg, again) {
			t.Fatalf("message %d differs between two calls", i)
		}
		if len(msg) < corpusMinSize || len(msg) > corpusMaxSize+100 {
			t.Errorf("message %d: %d octets", i, len(msg))
		}
		if bytes.Contains(bytes.ReplaceAll(msg, []byte("\r\n"), nil), []byte("\n")) || !bytes.HasSuffix(msg, []byte("\r\n")) {
			t.Fatalf("message %d: not CRLF text", i)
		}
		m, err := mail.ReadMessage(bytes.NewReader(msg))
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got, _ := m.Header.Date(); !got.Equal(date) || !date.Equal(corpusEpoch.Add(time.Duration(i)*corpusStep)) {
			t.Errorf("message %d: Date %v, want %v", i, got, date)
		}
		if id := m.Header.Get("Message-ID"); id != fmt.Sprintf("<fill-7-%d@mailbench.invalid>", i) {
			t.Errorf("message %d: Message-ID %q", i, id)
		}
		for _, line := range strings.Split(string(msg), "\r\n") {
			if len(line) > 998 {
				t.Fatalf("message %d: a line of %d octets", i, len(line))
			}
		}
		header, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
		if slices.Contains(strings.Fields(m.Header.Get("Subject")), defaultHeaderTerm) {
			inSubject++
		}
		if bytes.Contains(body, []byte(defaultBodyTerm)) {
			inBody++
		}
		if bytes.Contains(header, []byte(defaultBodyTerm)) || bytes.Count(body, []byte("Reference: q")) != 1 {
			t.Errorf("message %d: the reference code is not once in the body only", i)
		}
	}
	if inSubject < n/100 || inSubject > n*6/100 {
		t.Errorf("%q in %d of %d subjects, want 1-6%%", defaultHeaderTerm, inSubject, n)
	}
	if inBody < 1 || inBody > n*3/1000 {
		t.Errorf("%q in %d of %d bodies, want about 0.1%%", defaultBodyTerm, inBody, n)
	}
	other, _ := corpusMessage(8, 0, "u1@test.example")
	first, _ := corpusMessage(7, 0, "u1@test.example")
	if bytes.Equal(other, first) {
		t.Error("two seeds give the same message")
	}
}

func TestFillMaildir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "Maildir")
	code, stdout, stderr := runArgs(t, "fill", "--count", "60", "--seed", "3", "--maildir", dir, "--concurrency", "3")
	if code != exitOK || !strings.HasPrefix(stdout, "filled 60 messages in ") || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, sub := range []string{"new", "tmp"} {
		if entries, err := os.ReadDir(filepath.Join(dir, sub)); err != nil || len(entries) != 0 {
			t.Errorf("%s: %d entries, %v; want empty", sub, len(entries), err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, "cur"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 60 {
		t.Fatalf("%d files in cur, want 60", len(entries))
	}
	name := regexp.MustCompile(`^(\d+)\.M(\d+)P3\.mailbench,S=(\d+),W=(\d+):2,$`)
	seen := map[int]bool{}
	for _, e := range entries {
		m := name.FindStringSubmatch(e.Name())
		if m == nil {
			t.Fatalf("file name %q", e.Name())
		}
		n, _ := strconv.Atoi(m[2])
		seen[n] = true
		want, date := corpusMessage(3, n, "u1@test.example")
		path := filepath.Join(dir, "cur", e.Name())
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, bytes.ReplaceAll(want, []byte("\r\n"), []byte("\n"))) {
			t.Errorf("message %d: the file is not the message with LF line ends", n)
		}
		if m[1] != strconv.FormatInt(date.Unix(), 10) || m[3] != strconv.Itoa(len(got)) || m[4] != strconv.Itoa(len(want)) {
			t.Errorf("message %d: name %q, want time %d, S=%d, W=%d", n, e.Name(), date.Unix(), len(got), len(want))
		}
		if info, err := os.Stat(path); err != nil || !info.ModTime().Equal(date) {
			t.Errorf("message %d: modified %v, want the Date %v", n, info.ModTime(), date)
		}
	}
	if len(seen) != 60 {
		t.Errorf("%d distinct messages, want 60", len(seen))
	}
}

func TestFillAppend(t *testing.T) {
	f := startFakeIMAP(t, nil)
	var mu sync.Mutex
	var got [][]byte
	f.appended = func(msg []byte) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, msg)
	}
	// The fake answers CREATE with BAD: fill goes on, and APPEND decides.
	code, stdout, stderr := runArgs(t, "fill", "--count", "25", "--addr", f.addr, "--user", "u@test.example",
		"--password", `pa"ss`, "--mailbox", "Bench", "--to", "x@test.example")
	if code != exitOK || stderr != "" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	var want [][]byte
	for n := range 25 {
		msg, _ := corpusMessage(1, n, "x@test.example")
		want = append(want, msg)
	}
	slices.SortFunc(got, bytes.Compare)
	slices.SortFunc(want, bytes.Compare)
	if !slices.EqualFunc(got, want, bytes.Equal) {
		t.Errorf("appended %d messages, not the 25 of the corpus", len(got))
	}
	appends := 0
	for _, c := range f.recorded() {
		if strings.HasPrefix(c, `APPEND "Bench" "`) {
			appends++
		}
	}
	if commands := f.recorded(); appends != 25 || !slices.Contains(commands, `CREATE "Bench"`) {
		t.Errorf("%d APPEND commands into Bench, want 25 after CREATE: %q", appends, commands[:min(3, len(commands))])
	}

	f.refuse = "APPEND"
	err := runFill(context.Background(), fillConfig{Count: 5, Seed: 1, To: "u1@test.example", Server: fakeServer(f.addr),
		Mailbox: "INBOX", Concurrency: 2}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "NO refused") {
		t.Errorf("refused APPEND: %v", err)
	}
}
