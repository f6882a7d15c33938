package mailauth

import (
	"bytes"
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
