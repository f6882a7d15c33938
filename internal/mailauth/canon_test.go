package mailauth

import (
	"bytes"
	"strings"
	"testing"
)

func canonicalBody(t *testing.T, body string, relaxed bool, chunk int) string {
	t.Helper()
	var out bytes.Buffer
	c := &bodyCanonicalizer{w: &out, relaxed: relaxed}
	for b := []byte(body); len(b) > 0; {
		n := min(chunk, len(b))
		if _, err := c.Write(b[:n]); err != nil {
			t.Fatal(err)
		}
		b = b[n:]
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestBodyCanonicalization(t *testing.T) {
	for _, tc := range []struct {
		body, simple, relaxed string
	}{
		// RFC 6376 §3.4.5.
		{" C \r\nD \t E\r\n\r\n\r\n", " C \r\nD \t E\r\n", " C\r\nD E\r\n"},
		{"", "\r\n", ""},
		{"\r\n\r\n", "\r\n", ""},
		{"a", "a\r\n", "a\r\n"},
		{"a\n\nb\n \n", "a\r\n\r\nb\r\n \r\n", "a\r\n\r\nb\r\n"},
		{"x\ry\r\n", "x\ry\r\n", "x\ry\r\n"},
		{"trailing cr\r", "trailing cr\r\r\n", "trailing cr\r\r\n"},
		{"\t lead\r\n", "\t lead\r\n", " lead\r\n"},
	} {
		for _, chunk := range []int{1, 2, 3, 1000} {
			if got := canonicalBody(t, tc.body, false, chunk); got != tc.simple {
				t.Errorf("simple %q (chunks of %d): got %q, want %q", tc.body, chunk, got, tc.simple)
			}
			if got := canonicalBody(t, tc.body, true, chunk); got != tc.relaxed {
				t.Errorf("relaxed %q (chunks of %d): got %q, want %q", tc.body, chunk, got, tc.relaxed)
			}
		}
	}
}

func TestHeaderCanonicalization(t *testing.T) {
	// RFC 6376 §3.4.5.
	for in, want := range map[string]string{
		"A: X\r\n":                    "a:X\r\n",
		"B : Y\t\r\n\tZ  \r\n":        "b:Y Z\r\n",
		"Subject:   two  spaces \r\n": "subject:two spaces\r\n",
	} {
		if got := string(canonHeaderRelaxed([]byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
	}
	sig := "ARC-Seal: i=1; a=rsa-sha256; b=abc\r\n def=; cv=none\r\n"
	if got := string(withoutSignature([]byte(sig))); got != "ARC-Seal: i=1; a=rsa-sha256; b=; cv=none\r\n" {
		t.Errorf("withoutSignature: %q", got)
	}
	if got := string(withoutSignature([]byte("X: bh=1; b=2\r\n"))); got != "X: bh=1; b=\r\n" {
		t.Errorf("withoutSignature last tag: %q", got)
	}
}

// referenceBody is body canonicalization (RFC 6376 §3.4.3, §3.4.4) written the plain way, on
// the whole body at once: the streaming canonicalizer must agree with it.
func referenceBody(body string, relaxed bool) string {
	segments := strings.Split(body, "\n")
	var lines []string
	for i, l := range segments {
		if i == len(segments)-1 {
			if l == "" {
				break // the body ended with a line break
			}
		} else {
			l = strings.TrimSuffix(l, "\r")
		}
		if relaxed {
			var b strings.Builder
			space := false
			for _, c := range []byte(l) {
				if c == ' ' || c == '\t' {
					space = true
					continue
				}
				if space {
					b.WriteByte(' ')
					space = false
				}
				b.WriteByte(c)
			}
			l = b.String() // white space at the end of the line is dropped
		}
		lines = append(lines, l)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) == 0 {
		if relaxed {
			return ""
		}
		return "\r\n"
	}
	return strings.Join(lines, "\r\n") + "\r\n"
}

// FuzzBodyCanonicalization compares the streaming canonicalizer, fed in chunks of every size
// from one byte, with referenceBody.
func FuzzBodyCanonicalization(f *testing.F) {
	for _, s := range []string{"", " C \r\nD \t E\r\n\r\n\r\n", "a\n\nb\n \n", "x\ry\r\n", "trailing cr\r", "\t lead\r\n", "\r\r\n\n \t\r", "word  word\t\tend  \r\n\r\nlast"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, body string, chunk uint8) {
		for _, relaxed := range []bool{false, true} {
			want := referenceBody(body, relaxed)
			for _, n := range []int{1, int(chunk) + 1, len(body) + 1} {
				if got := canonicalBody(t, body, relaxed, n); got != want {
					t.Fatalf("relaxed=%v %q in chunks of %d: got %q, want %q", relaxed, body, n, got, want)
				}
			}
		}
	})
}
