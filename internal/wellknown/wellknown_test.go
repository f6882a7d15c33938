package wellknown

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/mox/mtasts"
)

func services() Services {
	return Services{Hostname: "mail.example.org",
		IMAPS: ServiceOf("0.0.0.0:993", true), IMAP: ServiceOf("0.0.0.0:143", false),
		POP3S: ServiceOf("", true), POP3: ServiceOf("0.0.0.0:110", false),
		Submissions: ServiceOf("[::]:465", true), Submission: ServiceOf("0.0.0.0:587", false)}
}

func TestServiceOf(t *testing.T) {
	for _, c := range []struct {
		listen string
		want   int
	}{{"127.0.0.1:2993", 2993}, {"[::1]:993", 993}, {"", 0}, {"nonsense", 0}, {"host:0", 0}, {"host:70000", 0}} {
		if got := ServiceOf(c.listen, true); got.Port != c.want {
			t.Errorf("ServiceOf(%q) = %+v, want port %d", c.listen, got, c.want)
		}
	}
}

// TestMTASTSPolicy: the policy parses with an independent parser (mox's) into what was
// asked, and its id is a valid one that changes with the policy only.
func TestMTASTSPolicy(t *testing.T) {
	p := MTASTSPolicy(ModeEnforce, []string{"Mail.Example.ORG.", "mx2.example.org"}, 7*24*time.Hour)
	parsed, err := mtasts.ParsePolicy(p.Text)
	if err != nil {
		t.Fatalf("mox's parser: %v\n%s", err, p.Text)
	}
	var mx []string
	for _, m := range parsed.MX {
		mx = append(mx, m.Domain.Name())
	}
	if parsed.Version != "STSv1" || parsed.Mode != mtasts.ModeEnforce || parsed.MaxAgeSeconds != 604800 ||
		fmt.Sprint(mx) != "[mail.example.org mx2.example.org]" {
		t.Errorf("parsed %+v", parsed)
	}
	if _, _, err := mtasts.ParseRecord("v=STSv1; id=" + p.ID); err != nil || len(p.ID) > 32 {
		t.Errorf("id %q: %v", p.ID, err)
	}
	if again := MTASTSPolicy(ModeEnforce, []string{"mail.example.org", "mx2.example.org"}, 7*24*time.Hour); again != p {
		t.Errorf("the same policy got another id: %q, %q", again.ID, p.ID)
	}
	if testing := MTASTSPolicy(ModeTesting, []string{"mail.example.org", "mx2.example.org"}, 7*24*time.Hour); testing.ID == p.ID {
		t.Error("another mode kept the id")
	}
}

// TestAutoconfig reads the file back field by field, as Thunderbird's format has it.
func TestAutoconfig(t *testing.T) {
	out, err := Autoconfig("example.org", services())
	if err != nil {
		t.Fatal(err)
	}
	type server struct {
		Type           string `xml:"type,attr"`
		Hostname       string `xml:"hostname"`
		Port           string `xml:"port"`
		SocketType     string `xml:"socketType"`
		Authentication string `xml:"authentication"`
		Username       string `xml:"username"`
	}
	var cfg struct {
		XMLName  xml.Name `xml:"clientConfig"`
		Version  string   `xml:"version,attr"`
		Provider struct {
			ID          string   `xml:"id,attr"`
			Domain      string   `xml:"domain"`
			DisplayName string   `xml:"displayName"`
			Incoming    []server `xml:"incomingServer"`
			Outgoing    []server `xml:"outgoingServer"`
		} `xml:"emailProvider"`
	}
	if err := xml.Unmarshal(out, &cfg); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), `<?xml version="1.0" encoding="UTF-8"?>`) || cfg.Version != "1.1" ||
		cfg.Provider.ID != "example.org" || cfg.Provider.Domain != "example.org" || cfg.Provider.DisplayName == "" {
		t.Errorf("document %s", out)
	}
	got := func(list []server) string {
		var parts []string
		for _, s := range list {
			parts = append(parts, strings.Join([]string{s.Type, s.Hostname, s.Port, s.SocketType, s.Authentication, s.Username}, " "))
		}
		return strings.Join(parts, "\n")
	}
	wantIn := "imap mail.example.org 993 SSL password-cleartext %EMAILADDRESS%\n" +
		"imap mail.example.org 143 STARTTLS password-cleartext %EMAILADDRESS%\n" +
		"pop3 mail.example.org 110 STARTTLS password-cleartext %EMAILADDRESS%"
	wantOut := "smtp mail.example.org 465 SSL password-cleartext %EMAILADDRESS%\n" +
		"smtp mail.example.org 587 STARTTLS password-cleartext %EMAILADDRESS%"
	if g := got(cfg.Provider.Incoming); g != wantIn {
		t.Errorf("incoming:\n%s\nwant\n%s", g, wantIn)
	}
	if g := got(cfg.Provider.Outgoing); g != wantOut {
		t.Errorf("outgoing:\n%s\nwant\n%s", g, wantOut)
	}
}

const outlookRequest = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request>
    <EMailAddress>ann@example.org</EMailAddress>
    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>
  </Request>
</Autodiscover>`

func TestParseAutodiscover(t *testing.T) {
	if a, err := ParseAutodiscover(strings.NewReader(outlookRequest)); err != nil || a != "ann@example.org" {
		t.Errorf("ParseAutodiscover = %q, %v", a, err)
	}
	mobile := strings.Replace(outlookRequest, "outlook/responseschema/2006a", "mobilesync/responseschema/2006", 1)
	for name, body := range map[string]string{
		"mobilesync":   mobile,
		"no address":   strings.Replace(outlookRequest, "<EMailAddress>ann@example.org</EMailAddress>", "", 1),
		"other ns":     strings.Replace(outlookRequest, "outlook/requestschema", "other/requestschema", 1),
		"not XML":      "EMailAddress=ann@example.org",
		"entity bomb":  `<!DOCTYPE a [<!ENTITY x "xxxxxxxx">]><Autodiscover>&x;</Autodiscover>`,
		"unterminated": outlookRequest[:len(outlookRequest)-20],
	} {
		if a, err := ParseAutodiscover(strings.NewReader(body)); err == nil {
			t.Errorf("%s: accepted, address %q", name, a)
		}
	}
}

// TestAutodiscover reads the POX answer back field by field.
func TestAutodiscover(t *testing.T) {
	out, err := Autodiscover("ann@example.org", services())
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006 Autodiscover"`
		Response struct {
			XMLName xml.Name `xml:"http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a Response"`
			Account struct {
				AccountType string `xml:"AccountType"`
				Action      string `xml:"Action"`
				Protocol    []struct {
					Type, Server, Port, DomainRequired, LoginName, SPA, SSL, Encryption, AuthRequired string
				} `xml:"Protocol"`
			} `xml:"Account"`
		} `xml:"Response"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	acc := doc.Response.Account
	if acc.AccountType != "email" || acc.Action != "settings" {
		t.Errorf("account %+v", acc)
	}
	var got []string
	for _, p := range acc.Protocol {
		got = append(got, strings.Join([]string{p.Type, p.Server, p.Port, p.DomainRequired, p.LoginName, p.SPA, p.SSL,
			p.Encryption, p.AuthRequired}, " "))
	}
	want := []string{
		"IMAP mail.example.org 993 off ann@example.org off on  on",
		"IMAP mail.example.org 143 off ann@example.org off off TLS on",
		"POP3 mail.example.org 110 off ann@example.org off off TLS on",
		"SMTP mail.example.org 465 off ann@example.org off on  on",
		"SMTP mail.example.org 587 off ann@example.org off off TLS on",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("protocols:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
