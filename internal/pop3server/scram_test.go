package pop3server

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"posthorn/internal/auth"
	"posthorn/internal/testutil/scramtest"
)

// scramAuth runs AUTH SCRAM-SHA-256 with the RFC 5802 client cl and returns the final line.
func scramAuth(t *testing.T, c *conn, cl *scramtest.Client, ir bool) string {
	t.Helper()
	_, resp, _ := cl.Start()
	if ir {
		c.send("AUTH SCRAM-SHA-256 " + base64.StdEncoding.EncodeToString(resp) + "\r\n")
	} else {
		c.send("AUTH SCRAM-SHA-256\r\n")
		if line := c.readLine(); line != "+ " {
			t.Fatalf("S: %q, want an empty challenge", line)
		}
		c.send(base64.StdEncoding.EncodeToString(resp) + "\r\n")
	}
	for {
		line := c.readLine()
		challenge, ok := strings.CutPrefix(line, "+ ")
		if !ok {
			return line
		}
		data, err := base64.StdEncoding.DecodeString(challenge)
		if err != nil {
			t.Fatalf("S: %q: %v", line, err)
		}
		if resp, err = cl.Next(data); err != nil {
			t.Fatalf("client: %v", err)
		}
		c.send(base64.StdEncoding.EncodeToString(resp) + "\r\n")
	}
}

func TestAuthSCRAM(t *testing.T) {
	h := newHarness(t)
	if err := auth.SetPassword(context.Background(), h.Store, "bob@example.org", testPassword); err != nil {
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
