package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

// TestRunDNS: the zone of the flags is served over UDP and TCP on the port printed, with
// NXDOMAIN for an unknown name and an empty answer for a known name's missing type, until the
// context ends.
func TestRunDNS(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runDNS(ctx, dnsOptions{listen: "127.0.0.1:0", records: []string{
			`sender.example. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`,
			`1.0.0.127.in-addr.arpa. 300 IN PTR localhost.`,
		}}, w)
		w.Close()
	}()
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, r)
	for _, network := range []string{"udp", "tcp"} {
		c := &mdns.Client{Net: network, Timeout: 5 * time.Second}
		ask := func(name string, qtype uint16) *mdns.Msg {
			t.Helper()
			m := new(mdns.Msg)
			m.SetQuestion(name, qtype)
			in, _, err := c.Exchange(m, addr)
			if err != nil {
				t.Fatalf("%s %s: %v", network, name, err)
			}
			return in
		}
		if in := ask("SENDER.example.", mdns.TypeTXT); in.Rcode != mdns.RcodeSuccess || len(in.Answer) != 1 ||
			strings.Join(in.Answer[0].(*mdns.TXT).Txt, "") != "v=spf1 ip4:127.0.0.1 -all" || !in.Authoritative {
			t.Fatalf("%s TXT: %v", network, in)
		}
		if in := ask("1.0.0.127.in-addr.arpa.", mdns.TypePTR); len(in.Answer) != 1 || in.Answer[0].(*mdns.PTR).Ptr != "localhost." {
			t.Fatalf("%s PTR: %v", network, in)
		}
		if in := ask("sender.example.", mdns.TypeMX); in.Rcode != mdns.RcodeSuccess || len(in.Answer) != 0 {
			t.Fatalf("%s missing type: %v", network, in)
		}
		if in := ask("_dmarc.other.example.", mdns.TypeTXT); in.Rcode != mdns.RcodeNameError {
			t.Fatalf("%s unknown name: %v", network, in)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runDNS did not end with its context")
	}
}

func TestRunDNSBadRecord(t *testing.T) {
	if err := runDNS(context.Background(), dnsOptions{listen: "127.0.0.1:0", records: []string{"not a record"}}, io.Discard); err == nil {
		t.Fatal("a bad record was accepted")
	}
}
