package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestShutdownLetsTheReplyOut: a transaction is in flight until its final reply is written, not
// merely until Data returns. Here Data refuses a looping message after its headers while the
// client is still sending the body; shutdown starts; the client must still get the 554 for its
// message, and only then the 421. (For an accepted message the same gap would lose the 250 of
// a stored message, and the client would send it again.)
func TestShutdownLetsTheReplyOut(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<sender@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	// go-smtp hands Data the message in blocks of 64 KiB, so send more than that.
	c.send(strings.Repeat("Received: from relay.example by relay.example; Thu, 1 Jan 2026 00:00:00 +0000\r\n", MaxReceived) +
		"Subject: looping\r\n\r\n" + strings.Repeat(strings.Repeat("x", 78)+"\r\n", 1000))
	for deadline := time.Now().Add(5 * time.Second); h.rejections("loop") == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the loop was not detected")
		}
	}
	time.Sleep(50 * time.Millisecond) // let Data return

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(ctx) }()
	time.Sleep(200 * time.Millisecond) // several rounds of closing idle sessions
	c.send("the end of the body\r\n.")
	c.expect("554 5.4.6 ")
	c.expect("421 4.3.2 ")
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// TestShutdownSaysGoodbye: every connection between transactions gets 421 4.3.2 and is closed
// at once: one that has not sent EHLO yet, in plain text, and one after STARTTLS, over TLS;
// Shutdown does not wait for either until its deadline.
func TestShutdownSaysGoodbye(t *testing.T) {
	h := newHarness(t)
	greeted := h.dial()
	secure := h.dial()
	secure.cmd("EHLO client.example", "250 ")
	secure.cmd("STARTTLS", "220 ")
	tc := tls.Client(secure.c, &tls.Config{InsecureSkipVerify: true, ServerName: "mx.example.org"})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	secure = &conn{t: t, c: tc, r: bufio.NewReader(tc)}
	secure.cmd("EHLO client.example", "250 ")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if ctx.Err() != nil {
		t.Fatal("Shutdown waited for its deadline")
	}
	for _, c := range []*conn{greeted, secure} {
		c.expect("421 4.3.2 mx.example.org ")
		if _, err := c.r.ReadByte(); err == nil {
			t.Error("still open after the 421")
		}
	}
}

// rejections returns the refusals the server has counted for reason.
func (h *harness) rejections(reason string) float64 {
	h.t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.srv.Metrics.rejections)
	families, err := reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
