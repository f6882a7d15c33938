package config

import (
	"strings"
	"testing"
	"time"
)

func TestRetentionRules(t *testing.T) {
	c, err := Parse([]byte(`[retention]
junk_days = 30
trash_days = 60
all_days = 3650
mail_log_days = 90
run_at = "02:15"
[retention.domains."example.org"]
junk_days = 10
all_days = 0
[retention.domains."keep.example"]
trash_days = 0
`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	r := c.Retention
	for _, tc := range []struct {
		domain, use string
		want        int
	}{
		{"other.example", `\Junk`, 30},
		{"other.example", `\Trash`, 60},
		{"other.example", `\Sent`, 3650}, // no rule of its own: all_days
		{"other.example", "", 3650},
		{"example.org", `\Junk`, 10}, // the domain's rule wins
		{"Example.ORG", `\Junk`, 10},
		{"example.org", `\Trash`, 60}, // left out: the default
		{"example.org", "", 0},        // the domain's all_days = 0
		{"keep.example", `\Trash`, 3650},
	} {
		if got := r.MailboxDays(tc.domain, tc.use); got != tc.want {
			t.Errorf("MailboxDays(%s, %q) = %d, want %d", tc.domain, tc.use, got, tc.want)
		}
	}
	if got := r.RunAtOffset(); got != 2*time.Hour+15*time.Minute {
		t.Errorf("RunAtOffset = %v", got)
	}
	if !r.HasRules() || Default().Retention.HasRules() {
		t.Errorf("HasRules = %v, default %v", r.HasRules(), Default().Retention.HasRules())
	}
	ten := 10
	if only := (Retention{Domains: map[string]RetentionDomain{"example.org": {TrashDays: &ten}}}); !only.HasRules() {
		t.Error("a domain's own rule is no rule")
	}
	if got := Default().Retention.MailboxDays("example.org", `\Junk`); got != 0 {
		t.Errorf("default junk days = %d, want 0 (kept forever)", got)
	}
}

func TestRetentionValidate(t *testing.T) {
	for _, tc := range []struct {
		toml, want string
	}{
		{"[retention]\njunk_days = -1", "key retention.junk_days"},
		{"[retention]\ntrash_days = 40000", "key retention.trash_days"},
		{"[retention]\nmail_log_days = -5", "key retention.mail_log_days"},
		{"[retention]\ntracking_days = -1", "key retention.tracking_days"},
		{"[retention]\nlogin_history_days = -1", "key retention.login_history_days"},
		{"[retention]\nrun_at = \"25:00\"", "key retention.run_at"},
		{"[retention]\nrun_at = \"4:00\"", "key retention.run_at"},
		{"[retention]\njunk_days = \"30\"", "retention.junk_days"},
		{"[retention]\njunkdays = 30", "unknown key retention.junkdays"},
		{"[retention.domains.\"example.org\"]\njunk_days = -2", `key retention.domains."example.org".junk_days`},
		{"[retention.domains.\"example.org\"]\nmail_log_days = 2", "unknown key retention.domains.example.org.mail_log_days"},
		{"[retention.domains.\"Example.org\"]\njunk_days = 2", `key retention.domains."Example.org": write the domain as "example.org"`},
		{"[retention.domains.\"not a domain\"]\njunk_days = 2", `key retention.domains."not a domain"`},
	} {
		c, err := Parse([]byte(tc.toml))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error naming %s", tc.toml, err, tc.want)
		}
	}
}
