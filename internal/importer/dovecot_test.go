package importer

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

const dovecotBinary = "/usr/sbin/dovecot"

// startDovecot runs Debian's Dovecot on a loopback port with a configuration of its own in a
// temporary directory: one passwd-file user, Maildir, a Sent folder by another name with its
// special use. It returns the IMAP address. A missing Dovecot fails the test: scripts/test-deps.sh
// installs it (package dovecot-imapd).
func startDovecot(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(dovecotBinary); err != nil {
		t.Fatalf("Dovecot is needed for this test (%v): run scripts/test-deps.sh, which installs dovecot-imapd", err)
	}
	dir, err := os.MkdirTemp("", "posthorn-dovecot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	if err := os.WriteFile(filepath.Join(dir, "users"), []byte("mover@example.net:{PLAIN}secret\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// As root, the mail processes run as nobody, who must reach the mail directory; as anyone
	// else, every Dovecot process runs as that user.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	users := fmt.Sprintf("default_internal_user = %[1]s\ndefault_login_user = %[1]s\n", me.Username)
	uid, gid := os.Getuid(), os.Getgid()
	if uid == 0 {
		users = "mail_uid = nobody\nmail_gid = nogroup\n"
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ = strconv.Atoi(nobody.Uid)
		gid, _ = strconv.Atoi(nobody.Gid)
	}
	mail := filepath.Join(dir, "mail")
	if err := errors0(os.Chmod(dir, 0o755), os.Mkdir(mail, 0o700), os.Chown(mail, uid, gid)); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`base_dir = %[1]s/run
state_dir = %[1]s/state
instance_name = posthorn-import-test
protocols = imap
listen = 127.0.0.1
log_path = %[1]s/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
%[3]s
mail_location = maildir:%[1]s/mail/%%n
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%%u %[1]s/users
}
userdb {
  driver = static
  args = uid=%[4]d gid=%[5]d home=%[1]s/mail/%%n allow_all_users=yes
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox "Sent Messages" {
    special_use = \Sent
  }
  mailbox Papierkorb {
    special_use = \Trash
  }
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = %[2]d
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`, dir, port, users, uid, gid)
	confPath := filepath.Join(dir, "dovecot.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(dovecotBinary, "-F", "-c", confPath)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return addr
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "dovecot.log"))
			t.Fatalf("Dovecot did not listen on %s: %v\n%s\n%s", addr, err, out.String(), log)
		}
		time.Sleep(20 * time.Millisecond) // polled until the deadline
	}
}

func errors0(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// TestImportIMAPFromDovecot: folders seeded through APPEND with flags and dates, imported,
// compared over Dovecot's own FETCH; a second run copies nothing.
func TestImportIMAPFromDovecot(t *testing.T) {
	addr := startDovecot(t)
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("mover@example.net", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	folders := []string{"INBOX", "Sent Messages", "Papierkorb", "Archiv/2024", "Über"}
	for _, f := range folders[1:] {
		if err := c.Create(f, nil).Wait(); err != nil {
			t.Fatalf("create %s: %v", f, err)
		}
	}
	flagSets := [][]imap.Flag{nil, {imap.FlagSeen}, {imap.FlagSeen, imap.FlagAnswered}, {imap.FlagFlagged, "$Work"}, {imap.FlagDraft}}
	type seeded struct {
		folder string
		msg    storedMessage
	}
	var all []seeded
	for i, f := range folders {
		for j := range 6 {
			text := fmt.Sprintf("From: d@example.net\r\nSubject: %s %d\r\n\r\nbody %d %d\r\n", f, j, i, j)
			flags := flagSets[(i+j)%len(flagSets)]
			date := time.Date(2023, time.Month(1+j), 3+i, 8, 9, 10, 0, time.UTC)
			cmd := c.Append(f, int64(len(text)), &imap.AppendOptions{Flags: flags, Time: date})
			if _, err := cmd.Write([]byte(text)); err != nil {
				t.Fatal(err)
			}
			if err := cmd.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := cmd.Wait(); err != nil {
				t.Fatalf("append to %s: %v", f, err)
			}
			var names []string
			for _, fl := range flags {
				names = append(names, string(fl))
			}
			slices.Sort(names)
			all = append(all, seeded{f, storedMessage{body: text, flags: strings.Join(names, " "), date: date}})
		}
	}

	env, im := newEnv(t)
	src := &IMAP{Addr: addr, User: "mover@example.net", Password: "secret", Security: PlainLoopback, BatchSize: 4}
	sum, err := im.Import(t.Context(), src, "alice@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Copied != int64(len(all)) {
		t.Fatalf("summary %v, want %d copied", sum, len(all))
	}
	local := map[string]string{"Sent Messages": "Sent", "Papierkorb": "Trash"}
	for _, f := range folders {
		name := f
		if l, ok := local[f]; ok {
			name = l
		}
		var want []storedMessage
		for _, s := range all {
			if s.folder == f {
				want = append(want, s.msg)
			}
		}
		slices.SortFunc(want, func(a, b storedMessage) int { return strings.Compare(a.body, b.body) })
		got := mailboxContents(t, env, env.Alice, name)
		for i := range got {
			got[i].flags = strings.TrimSpace(strings.ReplaceAll(got[i].flags, `\Recent`, ""))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s (from %s): got %v\nwant %v", name, f, got, want)
		}
	}
	sum, err = im.Import(t.Context(), src, "alice@example.org", "")
	if err != nil || sum.Copied != 0 || sum.Skipped != int64(len(all)) {
		t.Fatalf("second run: %v %v", sum, err)
	}
}
