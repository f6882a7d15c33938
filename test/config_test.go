package test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigReference: the documented reference is itself a valid configuration file.
func TestConfigReference(t *testing.T) {
	t.Parallel()
	reference, errOut, code := runPosthorn(t, "", "config", "reference")
	if code != 0 || errOut != "" || !strings.Contains(reference, "max_message_size_mib") {
		t.Fatalf("config reference: exit %d\n%s%s", code, reference, errOut)
	}
	path := filepath.Join(t.TempDir(), "reference.toml")
	if err := os.WriteFile(path, []byte(reference), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runPosthorn(t, "", "config", "check", path)
	if code != 0 || out != path+": ok\n" || errOut != "" {
		t.Fatalf("config check of the reference: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = runPosthorn(t, "", "-c", path, "config", "check")
	if code != 0 || out != path+": ok\n" || errOut != "" {
		t.Fatalf("config check -c of the reference: exit %d\n%s%s", code, out, errOut)
	}
}

// TestServeRefusesBadConfig: a configuration mistake stops `serve` before it opens the data
// directory or binds a port, with one line that names the key.
func TestServeRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, extra, want string
	}{
		{"unknown key", "[smtp]\nmax_mesage_size_mib = 10", "unknown key smtp.max_mesage_size_mib"},
		{"value of the wrong type", "[smtp]\nmax_message_size_mib = \"10M\"", "key smtp.max_message_size_mib: toml: cannot decode TOML string"},
		{"value out of range", "[smtp]\nmax_message_size_mib = 0", "key smtp.max_message_size_mib: must be greater than 0, got 0"},
		{"value not in the list", "[log]\nlevel = \"verbose\"", `key log.level: "verbose" is not one of debug, info, warn, error`},
		{"missing certificate", "[tls]\ncert_file = \"missing.pem\"\nkey_file = \"missing.key\"", "key tls.cert_file: stat "},
		{"certificate without key", "[tls]\ncert_file = \"missing.pem\"", "key tls.cert_file and tls.key_file: set both or neither"},
		{"negative sending limit", "[limits]\nsend_per_hour = -1", "key limits.send_per_hour and limits.send_per_day: must be 0 (no limit)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s := NewServer(t, c.extra)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve", "-c", s.Config)
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			if ctx.Err() != nil {
				t.Fatalf("serve kept running with a bad configuration:\n%s", stderr.String())
			}
			if err == nil {
				t.Fatal("serve exited 0 with a bad configuration")
			}
			prefix := "posthorn: config " + s.Config + ": "
			line := stderr.String()
			if stdout.String() != "" || strings.Count(line, "\n") != 1 || !strings.HasPrefix(line, prefix) || !strings.Contains(line, c.want) {
				t.Fatalf("stdout %q, stderr %q; want one line %q...%q", stdout.String(), line, prefix, c.want)
			}
			if _, err := os.Stat(filepath.Join(s.Dir, "data")); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("the data directory was created before the configuration was checked (%v)", err)
			}
		})
	}
}
