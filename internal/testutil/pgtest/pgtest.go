// Package pgtest gives tests a PostgreSQL server and a fresh database per test.
//
// A test binary starts one Server (usually in TestMain) and asks it for a Database per test:
// each is a new database "t_<random>", dropped when the test ends, so tests never see each
// other's rows and may run in parallel.
//
// Where the server comes from: when POSTHORN_TEST_POSTGRES is set it is the URL of a server to
// use (its user must be allowed to create databases), as CI may provide; otherwise Start runs a
// throwaway server of its own: initdb into a temporary directory, then postgres listening only
// on a Unix socket in that directory (listen_addresses=”), with durability settings turned off
// for speed (a test database need not survive a crash). PostgreSQL refuses to run as root, so
// when the test runs as root (CI containers) the directory is given to the "postgres" system
// user and both programs run as that user through runuser. Missing PostgreSQL binaries are an
// error that names the package to install: a test never silently skips.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL is the environment variable naming an existing server to use instead of starting one.
const EnvURL = "POSTHORN_TEST_POSTGRES"

// startTimeout bounds initdb plus the server's start.
const startTimeout = 60 * time.Second

// Server is a PostgreSQL server tests create databases on.
type Server struct {
	admin string    // URL of a database to run CREATE/DROP DATABASE from
	dir   string    // the throwaway server's directory ("": an external server)
	cmd   *exec.Cmd // the throwaway server's process
}

// Start returns the server of POSTHORN_TEST_POSTGRES, or starts a throwaway one.
func Start(ctx context.Context) (*Server, error) { return start(ctx, false) }

// StartDurable is Start with a throwaway server that syncs its commits as a production server
// does (fsync, synchronous_commit and full_page_writes at their defaults), for benchmarks that
// measure what durability costs. A server of POSTHORN_TEST_POSTGRES is used as it is.
func StartDurable(ctx context.Context) (*Server, error) { return start(ctx, true) }

func start(ctx context.Context, durable bool) (*Server, error) {
	if u := os.Getenv(EnvURL); u != "" {
		s := &Server{admin: u}
		if err := s.waitReady(ctx); err != nil {
			return nil, fmt.Errorf("pgtest: %s=%s: %w", EnvURL, u, err)
		}
		return s, nil
	}
	s, err := startLocal(ctx, durable)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return s, nil
}

// binDir finds the directory of initdb and postgres: Debian's newest /usr/lib/postgresql/N/bin,
// else the PATH's.
func binDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("PostgreSQL binaries (initdb, postgres) not found: install Debian's " +
		"postgresql package (scripts/test-deps.sh does), or set " + EnvURL + " to a server's URL")
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// startLocal runs initdb and postgres in a new temporary directory; without durable, with the
// settings that make commits cheap and a crash fatal.
func startLocal(ctx context.Context, durable bool) (*Server, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir}
	var asUser []string // the command prefix that runs a program as the server's user
	if os.Geteuid() == 0 {
		if asUser, err = giveToPostgres(dir); err != nil {
			return nil, errors.Join(err, os.RemoveAll(dir))
		}
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	initdb := command(ctx, asUser, filepath.Join(bin, "initdb"), "-D", data, "-U", "posthorn",
		"--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, errors.Join(fmt.Errorf("initdb: %w: %s", err, out), os.RemoveAll(dir))
	}
	const port = "5432" // names the socket file only: nothing listens on TCP
	args := []string{"-D", data, "-k", dir, "-p", port, "-c", "listen_addresses=", "-c", "max_connections=200"}
	if !durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	s.cmd = command(context.Background(), asUser, filepath.Join(bin, "postgres"), args...)
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, errors.Join(err, os.RemoveAll(dir))
	}
	defer logFile.Close()
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, errors.Join(fmt.Errorf("start postgres: %w", err), os.RemoveAll(dir))
	}
	s.admin = (&url.URL{Scheme: "postgres", User: url.User("posthorn"), Path: "/postgres",
		RawQuery: url.Values{"host": {dir}, "port": {port}, "sslmode": {"disable"}}.Encode()}).String()
	if err := s.waitReady(ctx); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, errors.Join(fmt.Errorf("postgres did not start: %w\n%s", err, log), s.Stop())
	}
	return s, nil
}

// giveToPostgres makes dir the postgres system user's and returns the prefix that runs a
// command as that user.
func giveToPostgres(dir string) ([]string, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses to: %w (install Debian's postgresql package, which creates the user)", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		return nil, err
	}
	runuser, err := exec.LookPath("runuser")
	if err != nil {
		return nil, fmt.Errorf("running as root needs runuser to start PostgreSQL as postgres: %w", err)
	}
	return []string{runuser, "-u", "postgres", "--"}, nil
}

func command(ctx context.Context, prefix []string, name string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, prefix...), name), args...)
	return exec.CommandContext(ctx, argv[0], argv[1:]...)
}

// waitReady connects until the server answers or ctx ends.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.admin)
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop stops a throwaway server (fast shutdown) and removes its directory; an external
// server is left alone.
func (s *Server) Stop() error {
	if s.cmd == nil {
		return nil
	}
	var errs []error
	// The postmaster, not runuser, gets the signal: its pid is the first line of postmaster.pid.
	pid := s.cmd.Process.Pid
	if b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid")); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])); err == nil {
			pid = n
		}
	}
	if err := syscall.Kill(pid, syscall.SIGINT); err != nil {
		errs = append(errs, fmt.Errorf("stop postgres: %w", err))
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		errs = append(errs, errors.New("stop postgres: still running after 30s"), s.cmd.Process.Kill())
		<-done
	}
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

// Database creates a new, empty database for t and returns its URL; it is dropped when t ends.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(b[:])
	if err := s.exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := s.exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(s.admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func (s *Server) exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, s.admin)
	if err != nil {
		return err
	}
	_, err = conn.Exec(ctx, sql)
	return errors.Join(err, conn.Close(ctx))
}

// Main is a TestMain body for packages whose tests need a server: it starts one, runs the
// tests with it handed to use, stops it and returns the exit code. A server that cannot start
// fails the run with the reason.
func Main(m *testing.M, use func(*Server)) int {
	s, err := Start(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	use(s)
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		if code == 0 {
			code = 1
		}
	}
	return code
}

// StartForTest starts a server for one test and stops it when the test ends: for a package
// with a single PostgreSQL test, whose other tests should not wait for a server.
func StartForTest(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}
