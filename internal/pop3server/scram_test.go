package pop3server

import (
	"context"
	"encoding/base64"
	"testing"

	"posthorn/internal/credentials"
	"posthorn/internal/testutil/scramtest"
)

// scramAuth runs AUTH SCRAM-SHA-256 with the RFC 5802 client cl and returns the final line.
func scramAuth(t *testing.T, c *conn, cl *scramtest.Client, ir bool) string {
	t.Helper()
	send := func(line string) { c.send(line + "\r\n") }
	line, err := scramtest.Converse(cl, "AUTH SCRAM-SHA-256", ir, send, c.readLine)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return line
}

func TestAuthSCRAM(t *testing.T) {
	h := newHarness(t)
	if err := credentials.SetPassword(context.Background(), h.Store, "bob@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	c := h.dial()
	if got := scramAuth(t, c, &scramtest.Client{Username: "bob@example.org", Password: "wrong"}, true); got != "-ERR [AUTH] invalid credentials" {
		t.Fatalf("wrong password: %q", got)
	}
	// alice's password has no SCRAM keys (set as a hash only): SCRAM fails like a wrong password.
	if got := scramAuth(t, c, &scramtest.Client{Username: "alice@example.org", Password: testPassword}, true); got != "-ERR [AUTH] invalid credentials" {
		t.Fatalf("account without SCRAM keys: %q", got)
	}
	c.cmd("AUTH SCRAM-SHA-256 "+base64.StdEncoding.EncodeToString([]byte("n,,garbage")), "-ERR invalid SCRAM message")
	cl := &scramtest.Client{Username: "bob@example.org", Password: testPassword}
	if got := scramAuth(t, c, cl, false); got != "+OK bob@example.org has 0 messages (0 octets)" || !cl.Verified {
		t.Fatalf("right password: %q (server verified: %v)", got, cl.Verified)
	}
	c.cmd("STAT", "+OK 0 0")
}
