package auth

import (
	"encoding/base64"
	"testing"
)

// TestSCRAMRFC7677 replays the example exchange of RFC 7677 §3 (user "user", password
// "pencil") against the server with the RFC's server nonce and salt.
func TestSCRAMRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	keys, err := DeriveSCRAM("pencil", SCRAMSalt{Salt: salt, Iterations: 4096})
	if err != nil {
		t.Fatal(err)
	}
	var finished []bool
	s := &scramServer{
		nonce: func() string { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" },
		lookup: func(username string) (SCRAMSalt, []SCRAMKeys, error) {
			if username != "user" {
				t.Errorf("username %q", username)
			}
			return SCRAMSalt{Salt: salt, Iterations: 4096}, []SCRAMKeys{keys}, nil
		},
		finish: func(_ string, ok bool) error { finished = append(finished, ok); return nil },
	}
	steps := []struct{ client, server string }{
		{"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
			"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
			"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	}
	for _, st := range steps {
		got, done, err := s.Next([]byte(st.client))
		if err != nil || done || string(got) != st.server {
			t.Fatalf("C: %s\nS: %s done=%v err=%v\nwant S: %s", st.client, got, done, err, st.server)
		}
	}
	if _, done, err := s.Next([]byte{}); !done || err != nil {
		t.Fatalf("final empty response: done=%v err=%v", done, err)
	}
	if len(finished) != 1 || !finished[0] {
		t.Fatalf("finish calls %v", finished)
	}
}

func TestSASLprep(t *testing.T) {
	// RFC 4013 §3's examples that are mappings, and the pass-through of ASCII.
	for _, tc := range [][2]string{
		{"I\u00ADX", "IX"},  // SOFT HYPHEN mapped to nothing
		{"user", "user"},    // no transformation
		{"USER", "USER"},    // case preserved
		{"\u00AA", "a"},     // NFKC
		{"\u2168", "IX"},    // NFKC
		{"a\u00A0b", "a b"}, // non-ASCII space
		{"correct horse", "correct horse"},
	} {
		if got := saslprep(tc[0]); got != tc[1] {
			t.Errorf("saslprep(%q) = %q, want %q", tc[0], got, tc[1])
		}
	}
}
