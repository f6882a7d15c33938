// Package clamdtest runs Debian's clamd for tests: its own configuration in a temporary
// directory, the signature database of the shared test material (which detects the EICAR test
// file, also inside zip and base64), a Unix socket, in the foreground. It starts in about a
// second and works offline; freshclam is never run. A missing clamd fails the test
// (scripts/test-deps.sh installs clamav-daemon).
package clamdtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"posthorn/internal/testutil"
)

// Server is a running clamd.
type Server struct {
	Address string // "unix:/path/clamd.sock", as [filter.clamd] address takes it
	Socket  string
	Samples string // the shared sample files and messages (eicar.com, eicar-attachment.eml, ...)
	cmd     *exec.Cmd
	done    chan error
	stop    sync.Once
}

// Start starts clamd, with extra clamd.conf lines if given ("ReadTimeout 1"); it is stopped
// when the test ends.
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("clamd")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/clamd"); serr != nil {
			t.Fatalf("clamd is not installed (Debian package clamav-daemon; see scripts/test-deps.sh): %v", err)
		}
		bin = "/usr/sbin/clamd"
	}
	shared := testutil.SharedTestdata(t, "clamav")
	// A short directory: a Unix socket path is limited to 108 octets.
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	db := filepath.Join(dir, "db")
	if err := os.Mkdir(db, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(shared, "db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(shared, "db", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(db, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	socket := filepath.Join(dir, "clamd.sock")
	conf := filepath.Join(dir, "clamd.conf")
	text := fmt.Sprintf("Foreground yes\nLocalSocket %s\nDatabaseDirectory %s\nTemporaryDirectory %s\nLogFile %s\nStreamMaxLength 100M\n",
		socket, db, dir, filepath.Join(dir, "clamd.log"))
	for _, line := range extra {
		text += line + "\n"
	}
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", conf)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start clamd: %v", err)
	}
	s := &Server{Address: "unix:" + socket, Socket: socket, Samples: filepath.Join(shared, "samples"), cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(s.Stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.Dial("unix", socket); err == nil {
			c.Close()
			return s
		}
		select {
		case err := <-s.done:
			s.stop.Do(func() {}) // nothing left to stop
			log, _ := os.ReadFile(filepath.Join(dir, "clamd.log"))
			t.Fatalf("clamd exited: %v\n%s", err, log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("clamd did not open its socket within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops clamd and waits for it to exit; it may be called more than once.
func (s *Server) Stop() {
	s.stop.Do(func() {
		_ = s.cmd.Process.Kill()
		<-s.done // killed: its exit status says so and is not an error here
	})
}
