package auth

import (
	"strings"
	"testing"
	"time"
)

// RFC 4226 Appendix D: HOTP of the ASCII secret "12345678901234567890", counters 0 to 9.
func TestHOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	want := []string{"755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"}
	for i, w := range want {
		if got := HOTP(key, uint64(i), 6); got != w {
			t.Errorf("HOTP(%d) = %s, want %s", i, got, w)
		}
	}
}

// RFC 6238 Appendix B, the SHA-1 rows (8 digits, the same 20-byte seed).
func TestTOTPVectors(t *testing.T) {
	key := []byte("12345678901234567890")
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "94287082"},
		{1111111109, "07081804"},
		{1111111111, "14050471"},
		{1234567890, "89005924"},
		{2000000000, "69279037"},
		{20000000000, "65353130"},
	} {
		if got := HOTP(key, TOTPCounter(time.Unix(tc.unix, 0)), 8); got != tc.want {
			t.Errorf("TOTP at %d = %s, want %s", tc.unix, got, tc.want)
		}
		// The 6-digit code is the last six digits of the same value.
		if got := TOTP(key, time.Unix(tc.unix, 0)); got != tc.want[2:] {
			t.Errorf("6-digit TOTP at %d = %s, want %s", tc.unix, got, tc.want[2:])
		}
	}
}

func TestCheckTOTPWindow(t *testing.T) {
	key := []byte("12345678901234567890")
	at := time.Unix(1234567890, 0)
	code := TOTP(key, at)
	for _, tc := range []struct {
		offset time.Duration
		ok     bool
	}{{0, true}, {30 * time.Second, true}, {-30 * time.Second, true}, {61 * time.Second, false}, {-60 * time.Second, false}} {
		step, ok := CheckTOTP(key, code, at.Add(tc.offset))
		if ok != tc.ok {
			t.Errorf("code at offset %v: ok = %v, want %v", tc.offset, ok, tc.ok)
		}
		if ok && step != TOTPCounter(at) {
			t.Errorf("offset %v: step %d, want %d", tc.offset, step, TOTPCounter(at))
		}
	}
	for _, bad := range []string{"", "12345", "1234567", "abcdef"} {
		if _, ok := CheckTOTP(key, bad, at); ok {
			t.Errorf("code %q accepted", bad)
		}
	}
}

func TestTOTPSecretAndURI(t *testing.T) {
	s, err := NewTOTPSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := DecodeTOTPSecret(strings.ToLower(s[:4]) + " " + s[4:])
	if err != nil || len(key) != totpSecretBytes {
		t.Fatalf("decode %q: %d bytes, %v", s, len(key), err)
	}
	if _, err := DecodeTOTPSecret("not base32!"); err == nil {
		t.Error("bad secret decoded")
	}
	uri := TOTPKeyURI("posthorn mail.example.org", "alice@example.org", s)
	want := "otpauth://totp/posthorn%20mail.example.org:alice@example.org?algorithm=SHA1&digits=6&issuer=posthorn+mail.example.org&period=30&secret=" + s
	if uri != want {
		t.Errorf("uri = %s\nwant  %s", uri, want)
	}
}
