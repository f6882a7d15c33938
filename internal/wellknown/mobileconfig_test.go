package wellknown

import (
	"encoding/xml"
	"strings"
	"testing"
)

// plistDict reads the flat dicts of a profile: the outer one and the payload's.
type plistDoc struct {
	Dict struct {
		Inner []byte `xml:",innerxml"`
	} `xml:"dict"`
}

// values pairs each <key> with the text (or true/false) of the element that follows it.
func values(t *testing.T, inner string) map[string]string {
	t.Helper()
	out := map[string]string{}
	dec := xml.NewDecoder(strings.NewReader(inner))
	var key string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch el := tok.(type) {
		case xml.StartElement:
			depth++
			if depth != 1 {
				continue
			}
			switch el.Name.Local {
			case "key":
				var k string
				if err := dec.DecodeElement(&k, &el); err != nil {
					t.Fatal(err)
				}
				key, depth = k, depth-1
			case "true", "false":
				out[key] = el.Name.Local
			case "string", "integer":
				var v string
				if err := dec.DecodeElement(&v, &el); err != nil {
					t.Fatal(err)
				}
				out[key], depth = v, depth-1
			}
		case xml.EndElement:
			depth--
		}
	}
	return out
}

func TestMobileConfig(t *testing.T) {
	s := Services{Hostname: "mail.example.org", IMAPS: Service{993, true}, IMAP: Service{143, false},
		Submission: Service{587, false}}
	b, err := MobileConfig("alice@example.org", s)
	if err != nil {
		t.Fatal(err)
	}
	var doc plistDoc
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, b)
	}
	outer := values(t, string(doc.Dict.Inner))
	if outer["PayloadType"] != "Configuration" || outer["PayloadVersion"] != "1" || outer["PayloadUUID"] == "" ||
		outer["PayloadIdentifier"] != "mail.org.example.mail.alice@example.org" {
		t.Errorf("outer payload = %v", outer)
	}
	inner := string(doc.Dict.Inner)
	start, end := strings.Index(inner, "<array>"), strings.Index(inner, "</array>")
	mail := values(t, inner[start+len("<array>\n<dict>"):end])
	want := map[string]string{
		"PayloadType": "com.apple.mail.managed", "EmailAccountType": "EmailTypeIMAP", "EmailAddress": "alice@example.org",
		"IncomingMailServerHostName": "mail.example.org", "IncomingMailServerPortNumber": "993",
		"IncomingMailServerUseSSL": "true", "IncomingMailServerUsername": "alice@example.org",
		"OutgoingMailServerHostName": "mail.example.org", "OutgoingMailServerPortNumber": "587",
		"OutgoingMailServerUseSSL": "true", "OutgoingMailServerUsername": "alice@example.org",
		"IncomingMailServerAuthentication": "EmailAuthPassword", "OutgoingPasswordSameAsIncomingPassword": "true",
	}
	for k, v := range want {
		if mail[k] != v {
			t.Errorf("%s = %q, want %q", k, mail[k], v)
		}
	}
	if mail["PayloadUUID"] == outer["PayloadUUID"] || len(mail["PayloadUUID"]) != 36 {
		t.Errorf("payload UUIDs %q, %q", mail["PayloadUUID"], outer["PayloadUUID"])
	}
	again, _ := MobileConfig("alice@example.org", s)
	if string(again) != string(b) {
		t.Error("the profile is not stable")
	}
	// POP3 only: a POP account; no submission: no profile.
	b, err = MobileConfig("bob@example.org", Services{Hostname: "h", POP3S: Service{995, true}, Submissions: Service{465, true}})
	if err != nil || !strings.Contains(string(b), "<string>EmailTypePOP</string>") || !strings.Contains(string(b), "<integer>465</integer>") {
		t.Errorf("POP3 profile: %v\n%s", err, b)
	}
	if _, err := MobileConfig("bob@example.org", Services{Hostname: "h", IMAPS: Service{993, true}}); err == nil {
		t.Error("profile without submission")
	}
	// An address with markup is escaped.
	b, _ = MobileConfig("a<b>@example.org", s)
	if strings.Contains(string(b), "a<b>") {
		t.Error("address not escaped")
	}
}
