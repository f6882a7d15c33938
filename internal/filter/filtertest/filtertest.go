// Package filtertest builds, for benchmarks, an inbound filter with every check on and a
// realistic message: sender authentication over an in-memory resolver (SPF, iprev, DKIM with
// the sender's RSA and Ed25519 signatures, DMARC), the spam classifier with a trained model,
// the attachment policy, DNSBL, rate limits and clamd at the address given.
package filtertest

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"

	"posthorn/internal/filter"
	"posthorn/internal/filter/spam"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
)

// Sender is the envelope and From address of Message; ClientIP is its SMTP client.
const (
	Sender   = "news@remote.example"
	ClientIP = "127.0.0.1"
)

// Resolver answers from tables in memory, at once. Names without records are NXDOMAIN.
type Resolver struct {
	TXT  map[string][]string
	Addr map[string][]string // PTR names by address
	IP   map[string][]net.IPAddr
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

func fqdn(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	if v, ok := r.TXT[fqdn(name)]; ok {
		return v, nil
	}
	return nil, notFound(name)
}

func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	return nil, notFound(name)
}

func (r *Resolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	if v, ok := r.IP[fqdn(host)]; ok {
		return v, nil
	}
	return nil, notFound(host)
}

func (r *Resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	if v, ok := r.Addr[addr]; ok {
		return v, nil
	}
	return nil, notFound(addr)
}

// Domain is remote.example with fresh RSA and Ed25519 DKIM keys, and the DNS records that
// authenticate its mail from ClientIP: SPF and DMARC, the keys' records, and forward-confirmed
// reverse DNS of ClientIP (mail.remote.example).
type Domain struct {
	Resolver *Resolver // answers the records, from memory
	keys     []store.DKIMKey
}

// NewDomain generates the keys and the records.
func NewDomain() (*Domain, error) {
	keys, err := mailauth.GenerateDKIMKeys("remote.example", time.Now())
	if err != nil {
		return nil, fmt.Errorf("generate dkim keys: %w", err)
	}
	res := &Resolver{
		TXT: map[string][]string{
			"remote.example":        {"v=spf1 ip4:127.0.0.0/8 -all"},
			"_dmarc.remote.example": {"v=DMARC1; p=reject"},
		},
		Addr: map[string][]string{ClientIP: {"mail.remote.example."}},
		IP:   map[string][]net.IPAddr{"mail.remote.example": {{IP: net.ParseIP(ClientIP)}}},
	}
	for _, k := range keys {
		name, value, err := mailauth.DKIMRecord(k)
		if err != nil {
			return nil, fmt.Errorf("dkim record: %w", err)
		}
		res.TXT[fqdn(name)] = []string{value}
	}
	return &Domain{Resolver: res, keys: keys}, nil
}

// Sign returns msg with the domain's DKIM-Signature fields on top (RFC 6376).
func (s *Domain) Sign(msg []byte) ([]byte, error) {
	sigs, err := mailauth.SignDKIM(bytes.NewReader(msg), mailauth.SigningKeys(s.keys))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	return append([]byte(strings.Join(sigs, "")), msg...), nil
}

// New returns the filter and a DKIM-signed Newsletter of about size octets, ending in CRLF.
// clamd is "" to leave virus scanning out.
func New(tb testing.TB, clamd string, size int) (*filter.Filter, []byte) {
	tb.Helper()
	domain, err := NewDomain()
	if err != nil {
		tb.Fatal(err)
	}
	msg, err := domain.Sign(Newsletter(size))
	if err != nil {
		tb.Fatal(err)
	}
	res := domain.Resolver

	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	model := spam.NewMemoryModel()
	train(tb, model)
	f := &filter.Filter{
		Logger:   logger,
		Resolver: res,
		DNSBL:    []string{"bl.example"},
		Auth: filter.MailAuth{Verifier: &mailauth.Verifier{
			Resolver: res, Hostname: "mx.example.org", Logger: logger,
		}},
		Spam:        filter.Spam{Classifier: spam.New(model, nil, nil, res, spam.Config{}, logger)},
		Attachments: &filter.AttachmentPolicy{},
		Limits:      &filter.RateLimits{ConnectionsPerIP: 1 << 30, RecipientsPerIP: 1 << 30},
	}
	if clamd != "" {
		f.Clamd = &filter.Clamd{Address: clamd, Timeout: 10 * time.Second}
	}
	return f, msg
}

// train gives the model enough messages of each class for Bayes to speak.
func train(tb testing.TB, model store.SpamModel) {
	var batch []store.SpamTraining
	for i := 0; i < 2*spam.MinTraining; i++ {
		for _, class := range []struct {
			spam bool
			text string
		}{{true, "cheap pills winner casino viagra click now free money offer"}, {false, "meeting agenda minutes project review lunch tomorrow report"}} {
			m := fmt.Sprintf("Subject: message %d\r\n\r\n%s %d\r\n", i, class.text, i)
			toks, err := spam.Tokenize(strings.NewReader(m), int64(len(m)))
			if err != nil {
				tb.Fatal(err)
			}
			batch = append(batch, store.SpamTraining{Spam: class.spam, Tokens: toks.Hashes()})
		}
	}
	if err := model.TrainSpam(context.Background(), batch); err != nil {
		tb.Fatal(err)
	}
}

// Newsletter is a newsletter of about size octets: a text part and a base64 PDF attachment.
func Newsletter(size int) []byte {
	var b strings.Builder
	b.WriteString("From: Remote News <" + Sender + ">\r\nTo: <alice@example.org>\r\nSubject: the monthly report\r\n" +
		"Message-ID: <report@remote.example>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	words := strings.Fields("the project review meeting is tomorrow please read the attached report and the minutes of https://remote.example/minutes before lunch")
	for i := 0; b.Len() < size/2; i++ {
		b.WriteString(words[i%len(words)])
		if i%12 == 11 {
			b.WriteString("\r\n")
		} else {
			b.WriteString(" ")
		}
	}
	b.WriteString("\r\n--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")
	pdf := []byte("%PDF-1.7\n")
	for len(pdf) < size*3/8 {
		pdf = append(pdf, "1 0 obj << /Type /Page >> endobj\n"...)
	}
	enc := base64.StdEncoding.EncodeToString(pdf)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return []byte(b.String())
}

// Zone returns the resolver's records in zone-file syntax (RFC 1035 §5.1), one a line, sorted,
// for an authoritative server such as mailbench dns to serve. A TXT string longer than 255
// octets (a DKIM key) is split into several character-strings, which a TXT reader joins
// (RFC 1035 §3.3.14, RFC 7208 §3.3, RFC 6376 §3.6.2.2).
func (r *Resolver) Zone() ([]string, error) {
	var lines []string
	for name, values := range r.TXT {
		for _, v := range values {
			var parts []string
			for len(v) > 255 {
				parts = append(parts, strconv.Quote(v[:255]))
				v = v[255:]
			}
			parts = append(parts, strconv.Quote(v))
			lines = append(lines, fmt.Sprintf("%s. 300 IN TXT %s", name, strings.Join(parts, " ")))
		}
	}
	for addr, names := range r.Addr {
		rev, err := mdns.ReverseAddr(addr)
		if err != nil {
			return nil, fmt.Errorf("reverse name of %s: %w", addr, err)
		}
		for _, n := range names {
			lines = append(lines, fmt.Sprintf("%s 300 IN PTR %s", rev, mdns.Fqdn(n)))
		}
	}
	for host, addrs := range r.IP {
		for _, a := range addrs {
			typ := "AAAA"
			if a.IP.To4() != nil {
				typ = "A"
			}
			lines = append(lines, fmt.Sprintf("%s 300 IN %s %s", mdns.Fqdn(host), typ, a.IP))
		}
	}
	slices.Sort(lines)
	return lines, nil
}
