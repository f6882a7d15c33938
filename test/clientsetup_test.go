package test

import (
	"encoding/xml"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/mjl-/mox/mtasts"
)

// TestClientSetup: the running server serves the MTA-STS policy whose id "posthorn domain dns"
// prints, in the mode of [mta_sts], and autoconfig and autodiscover answers with the ports of
// the listeners it was started with.
func TestClientSetup(t *testing.T) {
	s := NewServer(t, "[mta_sts]\nmode = \"testing\"\nmax_age_seconds = 86400\n")
	s.MustCLI("", "domain", "add", "example.org")
	m := regexp.MustCompile(`_mta-sts\.example\.org\.\s+3600 IN TXT\s+"v=STSv1; id=([a-z0-9]+)"`).
		FindStringSubmatch(s.MustCLI("", "domain", "dns", "example.org"))
	if m == nil {
		t.Fatal("domain dns prints no _mta-sts record")
	}
	s.Start()

	fetch := func(method, host, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+s.HTTP+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(out)
	}
	code, policy := fetch("GET", "mta-sts.example.org", "/.well-known/mta-sts.txt", "")
	p, err := mtasts.ParsePolicy(policy)
	if code != 200 || err != nil || p.Mode != mtasts.ModeTesting || p.MaxAgeSeconds != 86400 ||
		len(p.MX) != 1 || p.MX[0].Domain.Name() != "mx.test.example" {
		t.Fatalf("policy %d %q: %+v, %v", code, policy, p, err)
	}
	if code, _ := fetch("GET", "mta-sts.other.example", "/.well-known/mta-sts.txt", ""); code != 404 {
		t.Errorf("policy of a domain not local: %d", code)
	}
	// The id printed is that of the policy served: the same text gives the same id.
	if !strings.Contains(s.MustCLI("", "domain", "dns", "example.org"), "id="+m[1]) {
		t.Error("domain dns printed another id the second time")
	}

	code, body := fetch("GET", "autoconfig.example.org", "/mail/config-v1.1.xml?emailaddress=ann%40example.org", "")
	var cfg struct {
		Provider struct {
			Incoming []struct {
				Type       string `xml:"type,attr"`
				Hostname   string `xml:"hostname"`
				Port       string `xml:"port"`
				SocketType string `xml:"socketType"`
			} `xml:"incomingServer"`
			Outgoing []struct {
				Port       string `xml:"port"`
				SocketType string `xml:"socketType"`
			} `xml:"outgoingServer"`
		} `xml:"emailProvider"`
	}
	if err := xml.Unmarshal([]byte(body), &cfg); code != 200 || err != nil {
		t.Fatalf("autoconfig %d %v\n%s", code, err, body)
	}
	in, out := cfg.Provider.Incoming, cfg.Provider.Outgoing
	if len(in) != 4 || in[0].Type != "imap" || in[0].Hostname != "mx.test.example" || in[0].Port != portOf(t, s.IMAPS) ||
		in[0].SocketType != "SSL" || in[1].Port != portOf(t, s.IMAP) || in[1].SocketType != "STARTTLS" ||
		in[2].Type != "pop3" || in[2].Port != portOf(t, s.POP3S) {
		t.Errorf("incoming servers %+v", in)
	}
	if len(out) != 2 || out[0].Port != portOf(t, s.Submissions) || out[0].SocketType != "SSL" ||
		out[1].Port != portOf(t, s.Submission) || out[1].SocketType != "STARTTLS" {
		t.Errorf("outgoing servers %+v", out)
	}

	code, body = fetch("POST", "autodiscover.example.org", "/autodiscover/autodiscover.xml",
		`<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request>`+
			`<EMailAddress>ann@example.org</EMailAddress><AcceptableResponseSchema>`+
			`http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`)
	if code != 200 || !strings.Contains(body, "<Port>"+portOf(t, s.IMAPS)+"</Port>") || !strings.Contains(body, "<LoginName>ann@example.org</LoginName>") {
		t.Errorf("autodiscover %d\n%s", code, body)
	}
}
