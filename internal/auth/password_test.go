package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestHashAndCheck(t *testing.T) {
	h, err := HashPassword("correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=2,p=2$") {
		t.Fatalf("hash %q is not an argon2id PHC string", h)
	}
	if ok, err := CheckPassword(h, "correct horse"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	if ok, err := CheckPassword(h, "wrong horse"); ok || err != nil {
		t.Fatalf("wrong password: %v %v", ok, err)
	}
	h2, _ := HashPassword("correct horse")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestMalformedHashes(t *testing.T) {
	for _, h := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=1,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=1,t=1,p=0$c2FsdA$aGFzaA", "$argon2id$v=19$m=1,t=1,p=1$!!$aGFzaA", "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$"} {
		if _, err := CheckPassword(h, "x"); !errors.Is(err, ErrMalformedHash) {
			t.Errorf("CheckPassword(%q) error = %v, want ErrMalformedHash", h, err)
		}
	}
}

func TestRandomPassword(t *testing.T) {
	p, err := RandomPassword()
	if err != nil || len(p) != 20 || CheckNewPassword(p) != nil {
		t.Fatalf("RandomPassword() = %q, %v", p, err)
	}
	if CheckNewPassword("short") == nil {
		t.Fatal("a 5-character password was accepted")
	}
}
