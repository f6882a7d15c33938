package queue

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/dns"
	"posthorn/internal/store"
	"posthorn/internal/testutil/dnstest"
	"posthorn/internal/testutil/mailenv"
)

// harness is a scheduler over a fresh store (domain example.org, accounts alice and bob), a
// test DNS server and sinks on loopback.
type harness struct {
	t     testing.TB
	env   *mailenv.Env
	store Store
	dns   *dnstest.Server
	sched *Scheduler
}

// newHarness prepares a scheduler whose MX hosts listen on port; zone is the DNS.
func newHarness(t testing.TB, port int, zone map[string][]string) *harness {
	t.Helper()
	env := mailenv.New(t, "mx.example.org")
	h := &harness{t: t, env: env, store: env.Store.(Store), dns: dnstest.Start(t, zone)}
	h.sched = &Scheduler{
		Hostname:     "mx.example.org",
		Store:        h.store,
		Bodies:       env.Blobs.Bodies(),
		Committer:    env.Committer,
		Resolver:     dns.New(h.dns.Addr),
		Logger:       env.Logger,
		Port:         port,
		RetryMin:     50 * time.Millisecond,
		RetryMax:     200 * time.Millisecond,
		PollInterval: 100 * time.Millisecond,
		Timeout:      10 * time.Second,
	}
	return h
}

func (h *harness) start() {
	h.sched.Start()
	h.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.sched.Shutdown(ctx); err != nil {
			h.t.Error(err)
		}
	})
}

// enqueue commits a message for remote recipients (and nothing local) and returns its blob id.
func (h *harness) enqueue(sender, subject string, out ...store.Outbound) string {
	h.t.Helper()
	w, err := h.env.Committer.NewDraft(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	defer w.Abort()
	fmt.Fprintf(w, "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@example.org>\r\n\r\nHello.\r\n",
		sender, out[0].Recipient, subject, strings.ReplaceAll(subject, " ", "."))
	for i := range out {
		out[i].Sender = sender
	}
	committed, err := w.Commit(context.Background(), delivery.Message{Outbound: out})
	if err != nil {
		h.t.Fatal(err)
	}
	return committed.BodyID
}

// waitFor polls cond until it holds, failing the test after 15 s.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) queueLen() int {
	all, err := h.store.ListQueue(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	return len(all)
}

// inbox returns the texts of the messages in an account's INBOX.
func (h *harness) inbox(acc store.Account) []string {
	h.t.Helper()
	return h.env.Mailbox(acc, "INBOX")
}

// checkStore fails the test if the store's invariants (blob references included) are broken.
func (h *harness) checkStore() {
	h.t.Helper()
	problems, err := h.store.Check(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	if len(problems) > 0 {
		h.t.Fatalf("store check: %q", problems)
	}
}

// report is a parsed delivery status notification.
type report struct {
	header      mail.Header
	human       string
	perMessage  textproto.MIMEHeader
	recipients  []textproto.MIMEHeader
	originalCT  string
	original    string
	reportParam string
}

// parseDSN checks the RFC 3464 / RFC 6522 structure of a notice and returns its parts.
func parseDSN(t testing.TB, text string) report {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	var r report
	r.header = msg.Header
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" {
		t.Fatalf("Content-Type %q (%v), want multipart/report", msg.Header.Get("Content-Type"), err)
	}
	r.reportParam = params["report-type"]
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var types []string
	for i := 0; ; i++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct := p.Header.Get("Content-Type")
		types = append(types, ct)
		switch i {
		case 0:
			r.human = string(body)
		case 1:
			tr := textproto.NewReader(bufio.NewReader(strings.NewReader(string(body))))
			if r.perMessage, err = tr.ReadMIMEHeader(); err != nil {
				t.Fatalf("per-message fields: %v", err)
			}
			for {
				h, err := tr.ReadMIMEHeader()
				if len(h) > 0 {
					r.recipients = append(r.recipients, h)
				}
				if err != nil {
					break
				}
			}
		case 2:
			r.originalCT, r.original = ct, string(body)
		}
	}
	if len(types) != 3 || !strings.HasPrefix(types[0], "text/plain") || types[1] != "message/delivery-status" {
		t.Fatalf("parts %q, want text/plain, message/delivery-status, original", types)
	}
	return r
}

// held keeps the listeners of loopbackPort until a sink takes them, so no other socket can
// take their port in between.
var held sync.Map // "127.0.0.1:port" -> net.Listener

// loopbackPort reserves a port on 127.0.0.1 (and so, in practice, free on all of 127/8); a
// sink started at 127.0.0.1 and that port takes over the listener.
func loopbackPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held.Store(l.Addr().String(), l)
	t.Cleanup(func() {
		if l, ok := held.LoadAndDelete(l.Addr().String()); ok {
			l.(net.Listener).Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port
}

func at(ip string, port int) string { return net.JoinHostPort(ip, strconv.Itoa(port)) }

// remoteZone is remote.example with one MX host on 127.0.0.1.
func remoteZone() map[string][]string {
	return map[string][]string{
		"remote.example.":    {"remote.example. 300 IN MX 10 mx.remote.example."},
		"mx.remote.example.": {"mx.remote.example. 300 IN A 127.0.0.1"},
	}
}
