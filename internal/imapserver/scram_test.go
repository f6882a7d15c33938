package imapserver

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"posthorn/internal/credentials"
	"posthorn/internal/testutil/scramtest"
)

// scramExchange runs AUTHENTICATE SCRAM-SHA-256 as tag with the RFC 5802 client cl, with or
// without an initial response, and returns the tagged response line.
func scramExchange(t *testing.T, c *conn, tag string, cl *scramtest.Client, ir bool) string {
	t.Helper()
	line, err := scramtest.Converse(cl, tag+" AUTHENTICATE SCRAM-SHA-256", ir, c.send, c.readLine)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return line
}

func TestAuthenticateSCRAM(t *testing.T) {
	h := newHarness(t)
	if err := credentials.SetPassword(context.Background(), h.store, "bob@example.org", testPassword); err != nil {
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
	c.send("a4 AUTHENTICATE SCRAM-SHA-256")
	c.expect("+ ")
	c.send("*")
	c.expect("a4 BAD authentication cancelled")
	cl := &scramtest.Client{Username: "bob@example.org", Password: testPassword}
	if got := scramExchange(t, c, "a5", cl, false); !strings.HasPrefix(got, "a5 OK [CAPABILITY IMAP4rev2") || !cl.Verified {
		t.Fatalf("right password: %q (server verified: %v)", got, cl.Verified)
	}
	c.send("a6 SELECT INBOX")
	for line := c.readLine(); !strings.HasPrefix(line, "a6 "); line = c.readLine() {
	}
}
