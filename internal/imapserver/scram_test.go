package imapserver

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"posthorn/internal/auth"
	"posthorn/internal/testutil/scramtest"
)

// scramExchange runs AUTHENTICATE SCRAM-SHA-256 as tag with the RFC 5802 client cl, with or
// without an initial response, and returns the tagged response line.
func scramExchange(t *testing.T, c *conn, tag string, cl *scramtest.Client, ir bool) string {
	t.Helper()
	_, first, _ := cl.Start()
	resp := first
	if ir {
		c.send(tag + " AUTHENTICATE SCRAM-SHA-256 " + base64.StdEncoding.EncodeToString(first))
	} else {
		c.send(tag + " AUTHENTICATE SCRAM-SHA-256")
		if line := c.readLine(); line != "+ " {
			t.Fatalf("S: %q, want an empty continuation", line)
		}
		c.send(base64.StdEncoding.EncodeToString(first))
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
		c.send(base64.StdEncoding.EncodeToString(resp))
	}
}

func TestAuthenticateSCRAM(t *testing.T) {
	h := newHarness(t)
	if err := auth.SetPassword(context.Background(), h.store, "bob@example.org", testPassword); err != nil {
		t.Fatal(err)
	}
	c := h.dial()
	if got := scramExchange(t, c, "a1", &scramtest.Client{Username: "bob@example.org", Password: "wrong"}, true); got != "a1 NO [AUTHENTICATIONFAILED] invalid credentials" {
		t.Fatalf("wrong password: %q", got)
	}
	// alice's password was set as a hash only: no SCRAM keys, so SCRAM fails like a wrong password.
	if got := scramExchange(t, c, "a2", &scramtest.Client{Username: "alice@example.org", Password: testPassword}, true); got != "a2 NO [AUTHENTICATIONFAILED] invalid credentials" {
		t.Fatalf("account without SCRAM keys: %q", got)
	}
	c.send("a3 AUTHENTICATE SCRAM-SHA-256 " + base64.StdEncoding.EncodeToString([]byte("p=tls-unique,,n=bob@example.org,r=x")))
	if got := c.readLine(); got != "a3 NO [AUTHENTICATIONFAILED] invalid credentials" {
		t.Fatalf("channel binding: %q", got)
	}
	cl := &scramtest.Client{Username: "bob@example.org", Password: testPassword}
	if got := scramExchange(t, c, "a4", cl, false); !strings.HasPrefix(got, "a4 OK [CAPABILITY IMAP4rev2") || !cl.Verified {
		t.Fatalf("right password: %q (server verified: %v)", got, cl.Verified)
	}
	c.send("a5 SELECT INBOX")
	for line := c.readLine(); !strings.HasPrefix(line, "a5 "); line = c.readLine() {
	}
}
