package spam

import (
	"bytes"
	"testing"
)

// FuzzTokenize checks that Tokenize never fails on content nor panics, that it keeps its
// bounds, and that every token's hash is the hash of its text. The seed corpus in
// testdata/fuzz/FuzzTokenize holds GTUBE, nested and encoded MIME, broken HTML and URLs, an
// encapsulated message in KOI8-R, and a malformed header and base64 body.
func FuzzTokenize(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		toks, err := Tokenize(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("tokenize: %v", err)
		}
		if len(toks.List) > MaxTokens || len(toks.Features.Domains) > maxURLs {
			t.Fatalf("%d tokens, %d domains: over the bounds", len(toks.List), len(toks.Features.Domains))
		}
		seen := map[string]bool{}
		for _, tok := range toks.List {
			if seen[tok.text] {
				t.Fatalf("token %q twice", tok.text)
			}
			seen[tok.text] = true
			if tok.hash != hashToken(tok.text) {
				t.Fatalf("token %q: wrong hash", tok.text)
			}
		}
	})
}
