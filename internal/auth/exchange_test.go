package auth

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/testutil/scramtest"
)

var (
	errCancelled = errors.New("cancelled")
	errBase64    = errors.New("bad base64")
)

// lines is a client that answers each challenge with its next line and records what the
// server wrote.
type lines struct {
	answers []string
	out     strings.Builder
}

// written returns the lines the server wrote, each of which must end in CRLF.
func (l *lines) written(t *testing.T) []string {
	t.Helper()
	text := l.out.String()
	if text == "" {
		return nil
	}
	if !strings.HasSuffix(text, "\r\n") {
		t.Fatalf("server output %q does not end in CRLF", text)
	}
	return strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n")
}

var errWrite = errors.New("write failed")

func (l *lines) exchange() LineExchange {
	return LineExchange{
		W:           bufio.NewWriter(&l.out),
		WriteFailed: func(error) error { return errWrite },
		ReadLine: func() (string, error) {
			if len(l.answers) == 0 {
				return "", errors.New("client has nothing more to say")
			}
			line := l.answers[0]
			l.answers = l.answers[1:]
			return line, nil
		},
		Cancelled: errCancelled,
		BadBase64: errBase64,
	}
}

func b64Std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// plain is a PLAIN server that accepts alice's password and records the logins it saw.
func plain(seen *[]string) *plainServer {
	return &plainServer{login: func(user, pass string) error {
		*seen = append(*seen, user)
		if user == "alice" && pass == "secret" {
			return nil
		}
		return ErrInvalidCredentials
	}}
}

func TestLineExchangePlain(t *testing.T) {
	for _, tc := range []struct {
		name, initial string
		answers       []string
		want          error
		written       []string
	}{
		{"initial response", b64Std("\x00alice\x00secret"), nil, nil, nil},
		{"empty challenge first", "", []string{b64Std("\x00alice\x00secret")}, nil, []string{"+ "}},
		{"wrong password", b64Std("\x00alice\x00wrong"), nil, ErrInvalidCredentials, nil},
		{"cancelled", "", []string{"*"}, errCancelled, []string{"+ "}},
		{"bad base64 answer", "", []string{"not base64!"}, errBase64, []string{"+ "}},
		{"bad base64 initial response", "not base64!", nil, errBase64, nil},
		// RFC 4959 §3: "=" is an empty initial response, which PLAIN cannot parse.
		{"empty initial response", "=", nil, ErrSASLSyntax, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var seen []string
			l := &lines{answers: tc.answers}
			err := l.exchange().Run(plain(&seen), tc.initial)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Run = %v, want %v", err, tc.want)
			}
			if got := l.written(t); !slices.Equal(got, tc.written) {
				t.Fatalf("server wrote %q, want %q", got, tc.written)
			}
		})
	}
}

// brokenConn fails every write, as a connection the client has closed.
type brokenConn struct{}

func (brokenConn) Write([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestLineExchangeWriteError(t *testing.T) {
	x := (&lines{}).exchange()
	x.W = bufio.NewWriter(brokenConn{})
	var seen []string
	if err := x.Run(plain(&seen), ""); !errors.Is(err, errWrite) {
		t.Fatalf("Run = %v, want WriteFailed's error", err)
	}
}

// TestLineExchangeSCRAM runs a whole SCRAM-SHA-256 exchange over lines, with the client of
// package scramtest answering each challenge the server wrote.
func TestLineExchangeSCRAM(t *testing.T) {
	salt := SCRAMSalt{Salt: []byte("sixteen byte slt"), Iterations: 4096}
	keys, err := DeriveSCRAM("pencil", salt)
	if err != nil {
		t.Fatal(err)
	}
	var finished []bool
	srv := NewSCRAMServer(
		func(string) (SCRAMSalt, []SCRAMKeys, error) { return salt, []SCRAMKeys{keys}, nil },
		func(_ string, ok bool) error { finished = append(finished, ok); return nil })
	client := &scramtest.Client{Username: "user", Password: "pencil"}
	_, first, _ := client.Start()
	var out strings.Builder
	x := LineExchange{
		W:           bufio.NewWriter(&out),
		WriteFailed: func(err error) error { return err },
		Cancelled:   errCancelled,
		BadBase64:   errBase64,
	}
	x.ReadLine = func() (string, error) {
		challenge, ok := strings.CutPrefix(out.String(), "+ ")
		if !ok || !strings.HasSuffix(challenge, "\r\n") {
			return "", fmt.Errorf("server wrote %q, want one challenge line", out.String())
		}
		out.Reset()
		data, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(challenge, "\r\n"))
		if err != nil {
			return "", err
		}
		resp, err := client.Next(data)
		return base64.StdEncoding.EncodeToString(resp), err
	}
	if err := x.Run(srv, base64.StdEncoding.EncodeToString(first)); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !client.Verified || !slices.Equal(finished, []bool{true}) {
		t.Fatalf("verified=%v finish calls %v", client.Verified, finished)
	}
}

func TestLoginServer(t *testing.T) {
	var seen []string
	srv := NewLoginServer(func(user, pass string) error {
		seen = append(seen, user+"/"+pass)
		return nil
	})
	l := &lines{answers: []string{b64Std("alice"), b64Std("secret")}}
	if err := l.exchange().Run(srv, ""); err != nil {
		t.Fatal(err)
	}
	want := []string{"+ " + b64Std("Username:"), "+ " + b64Std("Password:")}
	if got := l.written(t); !slices.Equal(got, want) || !slices.Equal(seen, []string{"alice/secret"}) {
		t.Fatalf("wrote %q, logins %q", l.written(t), seen)
	}
}
