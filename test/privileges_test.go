package test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// requireRoot skips, loudly, a test of what the server does when started as root.
func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("SKIP: %s needs to run as root (uid %d): it checks that the server started as root switches to server.user", t.Name(), os.Geteuid())
	}
}

// freeLowPort returns a loopback address with a free port below 1024, which only root can bind.
func freeLowPort(t *testing.T) string {
	t.Helper()
	for port := 700; port < 1000; port++ {
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			addr := l.Addr().String()
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port between 700 and 999 on 127.0.0.1")
	return ""
}

// procIDs returns the four ids (real, effective, saved, file system) of a /proc/PID/status line.
func procIDs(t *testing.T, pid int, field string) []string {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.Fields(rest)
		}
	}
	t.Fatalf("/proc/%d/status has no %s line:\n%s", pid, field, status)
	return nil
}

// TestServeAsRootSwitchesUser: started as root with server.user = "nobody" and its SMTP listener
// on a port below 1024, the server binds it, then runs as nobody (every uid and gid of
// /proc/PID/status, no supplementary group but nobody's), owns its data directory (not writable
// by others), and still stores mail that arrives over SMTP and writes its mail log.
func TestServeAsRootSwitchesUser(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatalf("no user nobody on this system: %v", err)
	}
	s := NewServer(t, "[server]\nuser = \"nobody\"\n[log]\nmail_log = \"mail.log\"\n")
	low := freeLowPort(t)
	conf, err := os.ReadFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	conf = []byte(strings.Replace(string(conf), fmt.Sprintf("smtp = %q", s.SMTP), fmt.Sprintf("smtp = %q", low), 1))
	if err := os.WriteFile(s.Config, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	s.SMTP = low
	// nobody must be able to reach the data directory: the test's temporary directories are 0700.
	for _, dir := range []string{s.Dir, filepath.Dir(s.Dir)} {
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Created by root before the first start, as `posthorn init` run as root does.
	s.MustCLI("", "domain", "add", "test.example")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@test.example", "--password-stdin")
	s.Start()

	pid := s.cmd.Process.Pid
	for _, field := range []string{"Uid", "Gid"} {
		want := nobody.Uid
		if field == "Gid" {
			want = nobody.Gid
		}
		ids := procIDs(t, pid, field)
		if len(ids) != 4 || strings.Count(strings.Join(ids, " "), want) != 4 {
			t.Errorf("/proc/%d/status %s: %v, want %s four times (real, effective, saved, fs)", pid, field, ids, want)
		}
	}
	if groups := procIDs(t, pid, "Groups"); len(groups) > 1 || (len(groups) == 1 && groups[0] != nobody.Gid) {
		t.Errorf("/proc/%d/status Groups: %v, want only %s (root's groups dropped)", pid, groups, nobody.Gid)
	}

	data := filepath.Join(s.Dir, "data")
	uid, _ := strconv.Atoi(nobody.Uid)
	info, err := os.Stat(data)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm&0o002 != 0 || perm&0o700 != 0o700 {
		t.Errorf("data directory mode %04o: writable by others, or not usable by its owner", perm)
	}
	for _, path := range []string{data, filepath.Join(data, "posthorn.db"), filepath.Join(s.Dir, "mail.log")} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if owner := int(st.Sys().(*syscall.Stat_t).Uid); owner != uid {
			t.Errorf("%s is owned by uid %d, want nobody (%d)", path, owner, uid)
		}
	}

	sendPlain(t, s.SMTP, "sender@remote.example", "alice@test.example", "Subject: as nobody\r\n\r\nstored by an unprivileged server\r\n")
	got := s.Inbox("alice@test.example")
	if len(got) != 1 || !strings.Contains(got[0], "stored by an unprivileged server") {
		t.Fatalf("inbox: %q\n%s", got, s.Log())
	}
	// The mail log line is written by the server as nobody, into the file it opened as root.
	deadline := time.Now().Add(20 * time.Second)
	for {
		logged, err := os.ReadFile(filepath.Join(s.Dir, "mail.log"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(logged), "alice@test.example") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("mail log has no line for the delivery:\n%s", logged)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Stop(); err != nil {
		t.Fatalf("SIGTERM exit: %v\n%s", err, s.Log())
	}
}

// refusedStart runs `posthorn serve -c conf`, which should exit at once; a server that starts
// anyway is stopped after a minute.
func refusedStart(t *testing.T, conf string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return exec.CommandContext(ctx, binary, "serve", "-c", conf).CombinedOutput()
}

// TestServeAsRootRefusesPublicListener: started as root without server.user and with a listener
// on every address, the server refuses to start and names the setting; the trial configuration
// on loopback only warns (TestServeWithoutConfig runs it).
func TestServeAsRootRefusesPublicListener(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	s := NewServer(t, "")
	conf, err := os.ReadFile(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(s.HTTP)
	conf = []byte(strings.Replace(string(conf), fmt.Sprintf("http = %q", s.HTTP), fmt.Sprintf("http = %q", ":"+port), 1))
	if err := os.WriteFile(s.Config, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := refusedStart(t, s.Config)
	if err == nil || !strings.Contains(string(out), "running as root with listen.http on a non-loopback address: set server.user") {
		t.Fatalf("serve as root with a public listener and no server.user: %v\n%s", err, out)
	}
}

// TestServeRefusesWorldWritableDataDir: a data directory every user may write to (the database
// and the DKIM private keys live there) is a start-up error that says how to fix it.
func TestServeRefusesWorldWritableDataDir(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "")
	data := filepath.Join(s.Dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(data, 0o777); err != nil {
		t.Fatal(err)
	}
	out, err := refusedStart(t, s.Config)
	if want := "data_dir " + data + ": writable by every user (mode 0777); make it 0750 or 0700"; err == nil || !strings.Contains(string(out), want) {
		t.Fatalf("serve with a data directory of mode 0777: %v\n%s\nwant %q", err, out, want)
	}
}
