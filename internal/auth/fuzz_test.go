package auth

import (
	"strings"
	"testing"
)

// FuzzSCRAMServer feeds arbitrary client-first and client-final messages to the SCRAM server:
// it must answer with a value or an error, never panic, and never succeed without the proof.
func FuzzSCRAMServer(f *testing.F) {
	f.Add([]byte("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
		[]byte("c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add([]byte("y,a=user,n=us=2Cer,r=abc,x=ext"), []byte("c=eSxhPXVzZXIs,r=abc,p=AAAA"))
	f.Add([]byte("p=tls-unique,,n=user,r=abc"), []byte(""))
	f.Add([]byte("n,,m=mandatory,n=user,r=abc"), []byte("c=biws,r=abc,p="))
	f.Add([]byte(",,,"), []byte(",p=,"))
	keys, _ := DeriveSCRAM("pencil", SCRAMSalt{Salt: []byte("salt"), Iterations: 1})
	f.Fuzz(func(t *testing.T, first, final []byte) {
		ok := false
		s := &scramServer{
			nonce: func() string { return "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0" },
			lookup: func(string) (SCRAMSalt, []SCRAMKeys, error) {
				return SCRAMSalt{Salt: []byte("salt"), Iterations: 1}, []SCRAMKeys{keys}, nil
			},
			finish: func(_ string, good bool) error { ok = good; return nil },
		}
		for _, msg := range [][]byte{first, final} {
			challenge, _, err := s.Next(msg)
			if err != nil {
				return
			}
			if strings.HasPrefix(string(challenge), "v=") && !ok {
				t.Fatalf("server-final-message without a valid proof: %q %q", first, final)
			}
		}
	})
}
