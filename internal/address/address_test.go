package address

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in, want string
	}{
		{"alice@example.org", "alice@example.org"},
		{"Alice@Example.ORG", "alice@example.org"},
		{"alice@example.org.", "alice@example.org"},
		{"a.b+tag@sub.example.org", "a.b+tag@sub.example.org"},
		{"o'brien@example.org", "o'brien@example.org"},
		{"jörg@bücher.example", "jörg@bücher.example"},
	}
	for _, c := range cases {
		a, err := Parse(c.in)
		if err != nil || a.String() != c.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", c.in, a, err, c.want)
		}
	}
	for _, bad := range []string{"", "alice", "@example.org", "alice@", "al ice@example.org", ".alice@example.org",
		"al..ice@example.org", "alice@-example.org", "alice@exa_mple.org", "alice@[127.0.0.1]", `"quoted"@example.org`,
		strings.Repeat("a", 65) + "@example.org", "alice@" + strings.Repeat("a", 64) + ".org", "a@b@c"} {
		if _, err := Parse(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%q) error = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestBase(t *testing.T) {
	a, _ := Parse("user+tag+more@example.org")
	base, tagged := a.Base()
	if !tagged || base.String() != "user@example.org" {
		t.Fatalf("Base = %q %v", base, tagged)
	}
	a, _ = Parse("+tag@example.org")
	if _, tagged := a.Base(); tagged {
		t.Fatal("an address that is only a tag has no base")
	}
}

// FuzzParse: Parse never panics, and what it accepts is stable under re-parsing.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"alice@example.org", "A+b@EXAMPLE.org.", "@", "a@b@c", "jörg@bücher.example", "x@-y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(a.String())
		if err != nil || again != a {
			t.Fatalf("Parse(%q) = %q, re-parse gives %q, %v", s, a, again, err)
		}
	})
}
