package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReferenceLoadsToDefaults(t *testing.T) {
	c, err := Parse([]byte(Reference))
	if err != nil {
		t.Fatalf("parse reference: %v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Fatalf("reference differs from defaults:\n got %+v\nwant %+v", c, Default())
	}
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

// TestReferenceDocumentsEveryKey walks the struct's toml tags and looks each key up in its section.
func TestReferenceDocumentsEveryKey(t *testing.T) {
	documented := map[string]bool{} // "section.key"
	current := ""
	for _, line := range strings.Split(Reference, "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			current = strings.Trim(line, "[]")
			continue
		}
		if line == "" || line[0] == '#' {
			continue
		}
		key, _, _ := strings.Cut(line, "=")
		documented[current+"."+strings.TrimSpace(key)] = true
	}
	var walk func(typ reflect.Type, section string)
	walk = func(typ reflect.Type, section string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := f.Tag.Get("toml")
			if f.Type.Kind() == reflect.Struct {
				// A nested table is documented under its dotted name: [filter.clamd].
				name := tag
				if section != "" {
					name = section + "." + tag
				}
				walk(f.Type, name)
				continue
			}
			if !documented[section+"."+tag] {
				t.Errorf("key %s.%s is not documented in Reference", section, tag)
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
}

func TestLoadErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, toml, want string
	}{
		{"unknown top-level key", `hostnme = "x"`, "unknown key hostnme"},
		{"unknown nested key", "[listen]\nsmtpp = \":25\"", "unknown key listen.smtpp"},
		{"wrong type", "[smtp]\nmax_recipients = \"ten\"", "smtp.max_recipients"},
		{"zero size", "[smtp]\nmax_message_size_mib = 0", "key smtp.max_message_size_mib"},
		{"bad listen", "[listen]\nsmtp = \"nope\"", "key listen.smtp"},
		{"submission address", "[listen]\nsubmission = \"587\"", "key listen.submission: \"587\" is not host:port"},
		{"negative send limit", "[limits]\nsend_per_day = -1", "key limits.send_per_hour and limits.send_per_day"},
		{"bad pop3 listen", "[listen]\npop3s = \"995\"", "key listen.pop3s"},
		{"bad https listen", "[listen]\nhttps = \"443\"", "key listen.https: \"443\" is not host:port"},
		{"https on the http address", "[listen]\nhttp = \":8080\"\nhttps = \":8080\"", "key listen.https: \":8080\" is listen.http's address too"},
		{"zero imap connections", "[imap]\nmax_connections = 0", "key imap.max_connections"},
		{"zero pop3 connections", "[pop3]\nmax_connections = 0", "key pop3.max_connections"},
		{"all disabled", "[listen]\nsmtp = \"\"\nsubmission = \"\"\nsubmissions = \"\"\nimap = \"\"\nimaps = \"\"\npop3 = \"\"\npop3s = \"\"\nhttp = \"\"\nhttps = \"\"", "every listener is disabled"},
		{"negative quota", "[limits]\ndefault_quota_mib = -1", "key limits.default_quota_mib"},
		{"missing cert", "[tls]\ncert_file = \"nope.pem\"\nkey_file = \"nope.key\"", "key tls.cert_file"},
		{"cert without key", "[tls]\ncert_file = \"a.pem\"", "set both or neither"},
		{"bad hostname", `hostname = "bad host"`, "key hostname"},
		{"bad level", "[log]\nlevel = \"loud\"", "key log.level"},
		{"bad resolver", "[dns]\nresolver = \"8.8.8.8\"", "key dns.resolver"},
		{"empty data dir", `data_dir = ""`, "key data_dir"},
		{"bad mta-sts mode", "[mta_sts]\nmode = \"strict\"", "key mta_sts.mode"},
		{"mta-sts max age", "[mta_sts]\nmax_age_seconds = 0", "key mta_sts.max_age_seconds"},
		{"syntax", `hostname = `, "line 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".toml")
			if err := os.WriteFile(path, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load(%q) error = %v, want it to contain %q", tc.toml, err, tc.want)
			}
		})
	}
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posthorn.toml")
	if err := os.WriteFile(path, []byte("data_dir = \"data\"\nhostname = \"mx.example.org\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != filepath.Join(dir, "data") || c.Hostname != "mx.example.org" {
		t.Fatalf("got data_dir %q hostname %q", c.DataDir, c.Hostname)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	c := Default()
	c.Hostname = "mail.example.com"
	c.Listen.SMTP = ":25"
	data, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatalf("parse marshalled config: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip differs:\n%s", data)
	}
}
