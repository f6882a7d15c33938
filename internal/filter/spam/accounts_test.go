package spam

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"reflect"
	"sync/atomic"
	"testing"
)

// countingReaderAt counts the reads of a message.
type countingReaderAt struct {
	r     *bytes.Reader
	reads atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.reads.Add(1)
	return c.r.ReadAt(p, off)
}

// countingResolver answers every name with NXDOMAIN and counts the address lookups.
type countingResolver struct{ lookups atomic.Int64 }

func (r *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *countingResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func (r *countingResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	r.lookups.Add(1)
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *countingResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

// TestClassifyAccountsReadsOnce: one message scored for three accounts gets each account the score Classify gives it alone, while the message is
// read, tokenised and looked up in the DNS blocklists once, as for one account.
func TestClassifyAccountsReadsOnce(t *testing.T) {
	train, _ := splitCorpus(t)
	model := NewMemoryModel()
	trainOn(t, model, 0, append(append([]labelled{}, train[:150]...), train[len(train)-150:]...))
	resolver := &countingResolver{}
	c := New(model, nil, nil, resolver, Config{DNSBLZones: []string{"bl.example"}, URIBLZones: []string{"uribl.example"}}, nil)
	m := msg("From: a@example.net\nSubject: the report\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <1@example.net>",
		"the minutes are at https://example.net/minutes and https://docs.example.com/r\n")
	signals := Signals{ClientIP: netip.MustParseAddr("192.0.2.1"), MailFrom: "a@example.net"}

	one := &countingReaderAt{r: bytes.NewReader(m)}
	if _, err := c.Classify(context.Background(), 1, one, int64(len(m)), signals); err != nil {
		t.Fatal(err)
	}
	lookupsOne := resolver.lookups.Load()
	if lookupsOne == 0 {
		t.Fatal("no blocklist lookups: the test would not show that they are shared")
	}

	resolver.lookups.Store(0)
	accounts := []int64{1, 2, 3}
	many := &countingReaderAt{r: bytes.NewReader(m)}
	scores, errs := c.ClassifyAccounts(context.Background(), accounts, many, int64(len(m)), signals)
	if many.reads.Load() != one.reads.Load() {
		t.Errorf("three accounts read the message %d times, one account %d", many.reads.Load(), one.reads.Load())
	}
	if got := resolver.lookups.Load(); got != lookupsOne {
		t.Errorf("three accounts made %d blocklist lookups, one account %d", got, lookupsOne)
	}
	for i, acc := range accounts {
		if errs[i] != nil {
			t.Fatalf("account %d: %v", acc, errs[i])
		}
		alone := classify(t, c, acc, m, signals)
		if !reflect.DeepEqual(scores[i], alone) {
			t.Errorf("account %d: scored %v with the others, %v alone", acc, scores[i], alone)
		}
	}
}
