package store

import "testing"

func TestReplaceAddress(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		changed  bool
	}{
		{"alice@example.org", "X", true},
		{"ALICE@Example.ORG", "X", true},
		{"bob@example.org,Alice@example.org", "bob@example.org,X", true},
		{"550 5.1.1 <alice@example.org>: no such user", "550 5.1.1 <X>: no such user", true},
		{"to alice@example.org.", "to X.", true},
		{"alice@example.org alice@example.org", "X X", true},
		{"malice@example.org", "malice@example.org", false},
		{"alice@example.org.uk", "alice@example.org.uk", false},
		{"alice@example.org-mail.net", "alice@example.org-mail.net", false},
		{"malice@example.org, alice@example.org", "malice@example.org, X", true},
		{"", "", false},
	} {
		got, changed := ReplaceAddress(tc.in, "alice@example.org", "X")
		if got != tc.want || changed != tc.changed {
			t.Errorf("ReplaceAddress(%q) = %q, %v; want %q, %v", tc.in, got, changed, tc.want, tc.changed)
		}
	}
}
