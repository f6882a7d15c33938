package mailauth

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"posthorn/internal/testutil"
)

// The openspf/pyspf test suites (RFC 7208 and RFC 4408 editions) from the shared test material:
// every scenario's zonedata becomes a fake resolver, and every test's result must be one of the
// results the suite accepts.

type spfSuite struct {
	Description string
	Tests       map[string]spfTest
	ZoneData    map[string][]spfRecord `yaml:"zonedata"`
}

type spfTest struct {
	Description string
	Spec        stringList
	Helo        string
	Host        string
	MailFrom    string `yaml:"mailfrom"`
	Result      stringList
}

type spfRecord struct {
	A       stringList `yaml:"A"`
	AAAA    stringList `yaml:"AAAA"`
	MX      []any      `yaml:"MX"`
	SPF     stringList `yaml:"SPF"`
	TXT     stringList `yaml:"TXT"`
	PTR     stringList `yaml:"PTR"`
	CNAME   string     `yaml:"CNAME"`
	TIMEOUT bool       `yaml:"TIMEOUT"`
}

// UnmarshalYAML reads a record, or the bare scalar TIMEOUT.
func (r *spfRecord) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.Value == "TIMEOUT" {
		r.TIMEOUT = true
		return nil
	}
	type plain spfRecord
	return n.Decode((*plain)(r))
}

// stringList decodes a YAML scalar or a sequence of scalars.
type stringList []string

func (l *stringList) UnmarshalYAML(n *yaml.Node) error {
	var list []string
	if err := n.Decode(&list); err == nil {
		*l = list
		return nil
	}
	var one string
	if err := n.Decode(&one); err != nil {
		return err
	}
	*l = []string{one}
	return nil
}

func TestSPFSuiteRFC7208(t *testing.T) { runSPFSuite(t, "rfc7208-tests.yml") }
func TestSPFSuiteRFC4408(t *testing.T) { runSPFSuite(t, "rfc4408-tests.yml") }

func runSPFSuite(t *testing.T, file string) {
	f, err := os.Open(filepath.Join(testutil.SharedTestdata(t, "spf"), file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	total := 0
	for {
		var s spfSuite
		if err := dec.Decode(&s); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		v := &Verifier{Resolver: spfZone(t, s.ZoneData), Hostname: "mx.posthorn.test"}
		for name, tc := range s.Tests {
			total++
			t.Run(name, func(t *testing.T) {
				got := v.SPF(context.Background(), net.ParseIP(tc.Host), tc.Helo, tc.MailFrom)
				if slices.Contains(tc.Result, string(got.Status)) {
					return
				}
				t.Errorf("%s (%s): got %s (%s), want one of %v", tc.Description, tc.Spec, got.Status, got.Reason, tc.Result)
			})
		}
	}
	t.Logf("%s: %d tests", file, total)
	if total < 150 {
		t.Fatalf("only %d tests read from %s", total, file)
	}
}

func spfZone(t *testing.T, zone map[string][]spfRecord) *fakeDNS {
	d := newFakeDNS()
	for name, records := range zone {
		key := fqdnKey(name)
		hasTXT := false
		for _, r := range records {
			if r.TIMEOUT {
				d.timeout[key] = true
				if ip := reverseName(key); ip != "" {
					d.timeout[ip] = true
				}
			}
			for _, s := range append(slices.Clone(r.A), r.AAAA...) {
				d.ip[key] = append(d.ip[key], net.IPAddr{IP: net.ParseIP(s)})
			}
			if len(r.TXT) > 0 {
				hasTXT = true // "TXT: NONE" says the name has no TXT record.
			}
			if len(r.TXT) > 0 && !(len(r.TXT) == 1 && r.TXT[0] == "NONE") {
				d.txt[key] = append(d.txt[key], strings.Join(r.TXT, ""))
			}
			if len(r.MX) == 2 {
				prio, _ := r.MX[0].(int)
				host, _ := r.MX[1].(string)
				d.mx[key] = append(d.mx[key], &net.MX{Pref: uint16(prio), Host: host})
			}
			for _, p := range r.PTR {
				ip := reverseName(key)
				if ip == "" {
					t.Fatalf("PTR on %s, not a reverse name", name)
				}
				d.ptr[ip] = append(d.ptr[ip], p+".")
			}
			if r.CNAME != "" {
				d.cname[key] = r.CNAME
			}
		}
		// Type SPF (99) records are obsolete (RFC 7208 §3.1, §14.1): the suite's SPF-only
		// entries stand for TXT records when a name has no TXT of its own.
		if !hasTXT {
			for _, r := range records {
				if len(r.SPF) > 0 {
					d.txt[key] = append(d.txt[key], strings.Join(r.SPF, ""))
				}
			}
		}
	}
	return d
}

// reverseName turns 4.3.2.1.in-addr.arpa or a nibble ip6.arpa name into the address's text
// form, or "" for other names.
func reverseName(name string) string {
	var s string
	switch {
	case strings.HasSuffix(name, ".in-addr.arpa"):
		p := strings.Split(strings.TrimSuffix(name, ".in-addr.arpa"), ".")
		slices.Reverse(p)
		s = strings.Join(p, ".")
	case strings.HasSuffix(name, ".ip6.arpa"):
		p := strings.Split(strings.TrimSuffix(name, ".ip6.arpa"), ".")
		slices.Reverse(p)
		var b strings.Builder
		for i, n := range p {
			if i > 0 && i%4 == 0 {
				b.WriteByte(':')
			}
			b.WriteString(n)
		}
		s = b.String()
	default:
		return ""
	}
	ip := net.ParseIP(s)
	if ip == nil {
		return ""
	}
	return ip.String()
}
