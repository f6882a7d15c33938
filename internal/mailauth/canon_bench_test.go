package mailauth

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
)

// BenchmarkBodyCanonical measures the body canonicalizers over 64 KiB of mail: text lines
// with single and double spaces, and base64 lines.
//
//	go test ./internal/mailauth -run '^$' -bench BodyCanonical
func BenchmarkBodyCanonical(b *testing.B) {
	var body bytes.Buffer
	for body.Len() < 32<<10 {
		body.WriteString("The quick brown fox  jumps over the lazy dog, again and again. \r\n")
	}
	for body.Len() < 64<<10 {
		body.WriteString(strings.Repeat("QUJD", 19) + "\r\n")
	}
	for _, relaxed := range []bool{false, true} {
		name := "simple"
		if relaxed {
			name = "relaxed"
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(body.Len()))
			for b.Loop() {
				c := &bodyCanonicalizer{w: sha256.New(), relaxed: relaxed}
				p := body.Bytes()
				for len(p) > 0 {
					n := min(len(p), 32<<10)
					c.Write(p[:n])
					p = p[n:]
				}
				c.Close()
			}
		})
	}
}
