// Package test drives the real posthorn binary end to end, with real clients (swaks, Python's
// smtplib, curl-like HTTP) against a server started on loopback with a temporary data directory.
//
// TestMain builds ./cmd/posthorn once; each test starts its own server with Start, which picks
// free ports, writes a config file and waits until the listeners answer.
package test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"posthorn/internal/testutil/dnstest"
)

// binary is the path of the posthorn binary built for this test run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "posthorn-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "posthorn")
	build := exec.Command("go", "build", "-o", binary, "../cmd/posthorn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build posthorn:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Server is a posthorn process started by a test.
type Server struct {
	t        *testing.T
	Dir      string // data directory and config live here
	Config   string // path of the config file
	SMTP     string // host:port
	IMAP     string // host:port, STARTTLS
	IMAPS    string // host:port, implicit TLS
	POP3     string // host:port, STLS
	POP3S    string // host:port, implicit TLS
	HTTP     string // host:port
	cmd      *exec.Cmd
	stderr   *lockedBuffer
	exited   chan error
	Hostname string

	// Submission (STARTTLS) and Submissions (implicit TLS), host:port.
	Submission, Submissions string
	// HTTPS is listen.https when a test sets it in its extra configuration (NewServer does
	// not), so that Start can move it as the others.
	HTTPS string
}

// freePort returns a loopback address with a port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	return freePorts(t, 1)[0]
}

// freePorts returns n loopback addresses with distinct ports that were free a moment ago: all
// are held at once while they are chosen, so none is handed out twice.
func freePorts(t *testing.T, n int) []string {
	t.Helper()
	addrs := make([]string, n)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs
}

// NewServer prepares a data directory and config (extra is appended to the TOML) without
// starting the process; Start starts it.
func NewServer(t *testing.T, extra string) *Server {
	t.Helper()
	if !strings.Contains(extra, "[dns]") {
		// The inbound filter's lookups (SPF, DKIM, DMARC, iprev) go to a DNS server of the
		// test's own, which knows no name, so no test waits on the network's resolver.
		// It binds its port before the listeners' ports are chosen, so it cannot take one.
		extra += fmt.Sprintf("\n[dns]\nresolver = %q\n", dnstest.Start(t, nil).Addr)
	}
	dir := t.TempDir()
	ports := freePorts(t, 8)
	s := &Server{t: t, Dir: dir, Config: filepath.Join(dir, "posthorn.toml"), SMTP: ports[0], IMAP: ports[1],
		IMAPS: ports[2], POP3: ports[3], POP3S: ports[4], HTTP: ports[5], Hostname: "mx.test.example",
		Submission: ports[6], Submissions: ports[7]}
	cfg := fmt.Sprintf("hostname = %q\ndata_dir = \"data\"\n[listen]\nsmtp = %q\nimap = %q\nimaps = %q\npop3 = %q\npop3s = %q\nhttp = %q\nsubmission = %q\nsubmissions = %q\n%s\n",
		s.Hostname, s.SMTP, s.IMAP, s.IMAPS, s.POP3, s.POP3S, s.HTTP, s.Submission, s.Submissions, extra)
	if err := os.WriteFile(s.Config, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// Start starts the server in Dir and waits until SMTP answers. A Server without Config runs
// `posthorn serve` without -c: the built-in defaults, data in Dir/posthorn-data.
//
// The ports were free when NewServer chose them, but any connection on the machine may take
// one as its local port before the server binds it. When the server exits because a listen
// address is in use, Start gives that listener a new free port and starts it again.
func (s *Server) Start() {
	s.t.Helper()
	for attempt := 1; ; attempt++ {
		err := s.start()
		if err == nil {
			return
		}
		taken := listenInUse.FindStringSubmatch(s.stderr.String())
		if taken == nil || s.Config == "" || attempt == 5 || !s.movePort(taken[1], taken[2]) {
			s.t.Fatalf("%v\n%s", err, s.stderr)
		}
	}
}

// listenInUse matches the start-up error of a listener whose address another socket holds.
var listenInUse = regexp.MustCompile(`listen\.(\w+): listen tcp (\S+): bind: address already in use`)

// movePort gives the listener key (listen.KEY), whose address addr is in use, a free port in
// the config file and in the Server; false when the config does not set it so.
func (s *Server) movePort(key, addr string) bool {
	conf, err := os.ReadFile(s.Config)
	line := []byte(fmt.Sprintf("\n%s = %q\n", key, addr))
	if err != nil || !bytes.Contains(conf, line) {
		return false
	}
	fresh := freePort(s.t)
	conf = bytes.Replace(conf, line, []byte(fmt.Sprintf("\n%s = %q\n", key, fresh)), 1)
	if err := os.WriteFile(s.Config, conf, 0o600); err != nil {
		s.t.Fatal(err)
	}
	fields := map[string]*string{"smtp": &s.SMTP, "imap": &s.IMAP, "imaps": &s.IMAPS, "pop3": &s.POP3,
		"pop3s": &s.POP3S, "http": &s.HTTP, "submission": &s.Submission, "submissions": &s.Submissions,
		"https": &s.HTTPS}
	if p := fields[key]; p != nil && *p == addr {
		*p = fresh
	}
	return true
}

// start runs the process and waits until SMTP answers; an error if it exits or never answers.
func (s *Server) start() error {
	s.t.Helper()
	s.stderr = &lockedBuffer{}
	args := []string{"serve"}
	if s.Config != "" {
		args = append(args, "-c", s.Config)
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Dir = s.Dir
	s.cmd.Stderr = s.stderr
	s.cmd.Stdout = s.stderr
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	s.exited = make(chan error, 1)
	go func() { s.exited <- s.cmd.Wait() }()
	cmd, exited := s.cmd, s.exited
	s.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.exited:
			return fmt.Errorf("posthorn exited during start: %v", err)
		default:
		}
		if c, err := net.Dial("tcp", s.SMTP); err == nil {
			line, _ := bufio.NewReader(c).ReadString('\n')
			c.Close()
			if strings.HasPrefix(line, "220 ") {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("posthorn did not start")
}

// Stop sends SIGTERM and returns the exit error (nil for status 0).
func (s *Server) Stop() error {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		return err
	case <-time.After(30 * time.Second):
		s.t.Fatalf("posthorn did not stop after SIGTERM:\n%s", s.stderr)
		return nil
	}
}

// Kill sends SIGKILL and waits for the process to end.
func (s *Server) Kill() {
	s.t.Helper()
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Log returns what the server wrote so far. What the server wrote a moment ago may not be in
// it yet (os/exec copies the output in a goroutine of its own): to look for a line, WaitLog.
func (s *Server) Log() string { return s.stderr.String() }

// WaitLog polls the server's output until cond holds for it and returns it, failing the test
// after 15 s.
func (s *Server) WaitLog(what string, cond func(log string) bool) string {
	s.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		log := s.Log()
		if cond(log) {
			return log
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s in the server's output:\n%s", what, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer is the server's output: os/exec writes it from its own goroutine while a test
// reads it through Log.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// CLI runs a posthorn admin command on this server's config with stdin, returning stdout,
// stderr and the exit status.
func (s *Server) CLI(stdin string, args ...string) (string, string, int) {
	return runPosthorn(s.t, stdin, append([]string{"-c", s.Config}, args...)...)
}

// MustCLI runs an admin command that must succeed.
func (s *Server) MustCLI(stdin string, args ...string) string {
	s.t.Helper()
	out, errOut, code := s.CLI(stdin, args...)
	if code != 0 {
		s.t.Fatalf("posthorn %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

func runPosthorn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return runPosthornIn(t, "", stdin, args...)
}

// runPosthornIn is runPosthorn in working directory dir ("": the test's).
func runPosthornIn(t *testing.T, dir, stdin string, args ...string) (string, string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if exitErr, ok := err.(*exec.ExitError); ok {
		code = exitErr.ExitCode()
	} else if err != nil {
		t.Fatalf("run posthorn %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

// requireTool returns the path of a program the tests need; .ci/run and `make test` install
// them, so a missing one fails the test rather than skipping it.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is not installed: run `make test`, which installs the test dependencies", name)
	}
	return path
}

// TestStartMovesTakenPort: a listener whose port another socket holds gets another, and the
// server starts.
func TestStartMovesTakenPort(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "")
	held, err := net.Listen("tcp", s.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	taken := s.IMAP
	s.Start()
	if s.IMAP == taken {
		t.Fatalf("IMAP still on %s, which another socket holds", taken)
	}
	c, err := net.Dial("tcp", s.IMAP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if line, _ := bufio.NewReader(c).ReadString('\n'); !strings.HasPrefix(line, "* OK") {
		t.Fatalf("IMAP greeting on the new port: %q", line)
	}
}

// TestReadyAfterStart: the binary, once started with every listener, is alive and ready:
// GET /healthz and GET /readyz answer 200, and posthorn_ready says 1.
func TestReadyAfterStart(t *testing.T) {
	s := NewServer(t, "")
	s.Start()
	if got := httpGet(t, "http://"+s.HTTP+"/healthz"); got != "ok\n" {
		t.Errorf("GET /healthz = %q, want \"ok\\n\"", got)
	}
	// Start returns once SMTP answers; the queue starts a moment later.
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + s.HTTP + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK && string(body) == "ready\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /readyz = %d %q, want 200 \"ready\\n\"", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := metricValue(httpGet(t, "http://"+s.HTTP+"/metrics"), "posthorn_ready"); got != "1" {
		t.Errorf("posthorn_ready = %q, want 1", got)
	}
}
