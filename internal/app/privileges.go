package app

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"

	"posthorn/internal/config"
)

// Running as root. A server started as root binds its listeners (ports below 1024 need root),
// reads its certificate and key files and opens its mail log, then gives the data directory to
// server.user (chown of the whole tree, mode 0750) and switches to that user for good: groups,
// then gid, then uid. Go applies setuid/setgid to every thread of the process (since Go 1.16),
// so no goroutine keeps root. Everything the server creates afterwards (database files, message
// bodies, DKIM keys, the ACME cache) belongs to that user.
//
// Started as root without server.user, the server refuses to start when a listener is on a
// non-loopback address (a server on the internet must not run as root) and warns otherwise (the
// trial configuration on 127.0.0.1). server.user = "root" keeps root deliberately.
//
// Whoever it runs as, the data directory must not be writable by others: it holds the
// database and the DKIM private keys.

// runAs is the account the process switches to; nil when it stays as it is.
type runAs struct {
	name     string
	uid, gid int
	groups   []int
}

// privileges decides, before anything is opened, whom the server will run as.
func privileges(cfg config.Config, logger *slog.Logger) (*runAs, error) {
	euid := os.Geteuid()
	if cfg.Server.User == "" {
		if euid != 0 {
			return nil, nil
		}
		if public := publicListener(cfg.Listen); public != "" {
			return nil, fmt.Errorf("running as root with %s on a non-loopback address: set server.user "+
				"(for example user = \"posthorn\" under [server], an account created with "+
				"useradd --system posthorn) to the account the server should run as, or start it as that "+
				"user (docs/posthorn.service); user = \"root\" keeps root deliberately", public)
		}
		logger.Warn("running as root: set server.user to the account the server should run as " +
			"(it keeps root only because every listener is on loopback)")
		return nil, nil
	}
	who, err := lookupAccount(cfg.Server.User, cfg.Server.Group)
	if err != nil {
		return nil, err
	}
	if euid != 0 {
		if who.uid == euid && who.gid == os.Getegid() {
			return nil, nil
		}
		return nil, fmt.Errorf("key server.user: only root can switch to %s (uid %d, gid %d); running as uid %d, gid %d: "+
			"start as root, or set server.user = \"\"", who.name, who.uid, who.gid, euid, os.Getegid())
	}
	if who.uid == 0 {
		logger.Warn("server.user is root: the server keeps every privilege")
		return nil, nil
	}
	return who, nil
}

// lookupAccount resolves server.user and server.group (names or numbers).
func lookupAccount(name, group string) (*runAs, error) {
	u, err := user.Lookup(name)
	if err != nil {
		var unknown user.UnknownUserError
		if _, numErr := strconv.Atoi(name); numErr == nil && errors.As(err, &unknown) {
			u, err = user.LookupId(name)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("key server.user: %q: %w (create it with: useradd --system --home-dir /var/lib/posthorn --shell /usr/sbin/nologin %s)", name, err, name)
	}
	who := &runAs{name: u.Username}
	if who.uid, err = strconv.Atoi(u.Uid); err != nil {
		return nil, fmt.Errorf("key server.user: uid %q: %w", u.Uid, err)
	}
	gid := u.Gid
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			var unknown user.UnknownGroupError
			if _, numErr := strconv.Atoi(group); numErr == nil && errors.As(err, &unknown) {
				g, err = user.LookupGroupId(group)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("key server.group: %q: %w", group, err)
		}
		gid = g.Gid
	}
	if who.gid, err = strconv.Atoi(gid); err != nil {
		return nil, fmt.Errorf("key server.group: gid %q: %w", gid, err)
	}
	// The user's supplementary groups, as login(1) would set them; without them only the gid.
	who.groups = []int{who.gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, id := range ids {
			if n, err := strconv.Atoi(id); err == nil && n != who.gid {
				who.groups = append(who.groups, n)
			}
		}
	}
	return who, nil
}

// listenerAddr is one listener's config key and address ("" = disabled).
type listenerAddr struct{ key, addr string }

// listenerAddrs lists every listener of l, in the order the server binds them.
func listenerAddrs(l config.Listen) []listenerAddr {
	return []listenerAddr{
		{"listen.smtp", l.SMTP}, {"listen.submission", l.Submission}, {"listen.submissions", l.Submissions},
		{"listen.imap", l.IMAP}, {"listen.imaps", l.IMAPS}, {"listen.pop3", l.POP3}, {"listen.pop3s", l.POP3S},
		{"listen.http", l.HTTP}, {"listen.https", l.HTTPS},
	}
}

// publicListener returns the key of the first listener not on a loopback address, or "".
func publicListener(l config.Listen) string {
	for _, e := range listenerAddrs(l) {
		if e.addr == "" {
			continue
		}
		host, _, err := net.SplitHostPort(e.addr)
		if err != nil {
			return e.key
		}
		if host == "localhost" {
			continue
		}
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			return e.key
		}
	}
	return ""
}

// giveDataDir creates the data directory if needed and gives it, with everything in it, to who,
// with mode 0750 on the directory itself.
func (who *runAs) giveDataDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create data_dir: %w", err)
	}
	if err := os.Chmod(dir, 0o750); err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) == who.uid && int(st.Gid) == who.gid {
			return nil
		}
		return os.Lchown(path, who.uid, who.gid)
	})
	if err != nil {
		return fmt.Errorf("give data_dir to %s: %w", who.name, err)
	}
	return nil
}

// switchTo drops root for good: supplementary groups, gid, then uid (after setuid nothing else
// could be changed).
func (who *runAs) switchTo() error {
	if err := syscall.Setgroups(who.groups); err != nil {
		return fmt.Errorf("server.user %s: setgroups: %w", who.name, err)
	}
	if err := syscall.Setgid(who.gid); err != nil {
		return fmt.Errorf("server.group: setgid %d: %w", who.gid, err)
	}
	if err := syscall.Setuid(who.uid); err != nil {
		return fmt.Errorf("server.user %s: setuid %d: %w", who.name, who.uid, err)
	}
	// setuid from root to a non-root uid cannot be undone; check that it really was.
	if err := syscall.Setuid(0); err == nil {
		return fmt.Errorf("server.user %s: root privileges could be regained after setuid", who.name)
	}
	return nil
}

// checkDataDir refuses a data directory that others may write to, and one the server cannot use.
func checkDataDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("data_dir %s: not a directory", dir)
	}
	if info.Mode().Perm()&0o002 != 0 {
		return fmt.Errorf("data_dir %s: writable by every user (mode %04o); make it 0750 or 0700: chmod o-w %s",
			dir, info.Mode().Perm(), dir)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("data_dir %s: the server (uid %d) cannot write to it (each parent directory must be searchable by it): %w",
			dir, os.Geteuid(), err)
	}
	return errors.Join(f.Close(), os.Remove(f.Name()))
}
