package wellknown

import (
	"bytes"
	"crypto/sha256"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// An Apple configuration profile (.mobileconfig) that sets up one account in Apple Mail on
// iOS and macOS: a "Configuration" payload holding one com.apple.mail.managed payload, written
// as an XML property list (Apple's Configuration Profile Reference, "Mail"). It carries the
// address, the preferred incoming service (IMAP before POP3, implicit TLS before STARTTLS, as
// for autoconfig) and the preferred submission service; the password is not in it, so the
// device asks for it when the profile is installed. The profile is unsigned.
//
// The payload UUIDs are derived from the address and host name, so installing the profile
// again replaces the account instead of adding a second one.

// MobileConfig returns the configuration profile of the account address at s.Hostname; an
// error when s offers no incoming or no submission service.
func MobileConfig(address string, s Services) ([]byte, error) {
	in, out := s.incoming(), s.outgoing()
	if len(in) == 0 || len(out) == 0 {
		return nil, errors.New("mobileconfig: no incoming or no submission service is offered")
	}
	accountType := "EmailTypeIMAP"
	if in[0].protocol == "pop3" {
		accountType = "EmailTypePOP"
	}
	ident := "mail." + reverse(s.Hostname)
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">` + "\n")
	b.WriteString(`<plist version="1.0">` + "\n<dict>\n")
	b.WriteString("<key>PayloadContent</key>\n<array>\n<dict>\n")
	// Every listener posthorn offers is TLS (implicit, or STARTTLS on the same port): UseSSL
	// is true either way, and the client negotiates STARTTLS on a plain port.
	plistEntries(&b, []entry{
		{"EmailAccountDescription", address},
		{"EmailAccountName", address},
		{"EmailAccountType", accountType},
		{"EmailAddress", address},
		{"IncomingMailServerAuthentication", "EmailAuthPassword"},
		{"IncomingMailServerHostName", s.Hostname},
		{"IncomingMailServerPortNumber", in[0].Port},
		{"IncomingMailServerUseSSL", true},
		{"IncomingMailServerUsername", address},
		{"OutgoingMailServerAuthentication", "EmailAuthPassword"},
		{"OutgoingMailServerHostName", s.Hostname},
		{"OutgoingMailServerPortNumber", out[0].Port},
		{"OutgoingMailServerUseSSL", true},
		{"OutgoingMailServerUsername", address},
		{"OutgoingPasswordSameAsIncomingPassword", true},
		{"PayloadDescription", "Mail account " + address},
		{"PayloadDisplayName", address},
		{"PayloadIdentifier", ident + ".account." + address},
		{"PayloadType", "com.apple.mail.managed"},
		{"PayloadUUID", payloadUUID("account", address, s.Hostname)},
		{"PayloadVersion", 1},
	})
	b.WriteString("</dict>\n</array>\n")
	plistEntries(&b, []entry{
		{"PayloadDescription", "Sets up the mail account " + address + " at " + s.Hostname},
		{"PayloadDisplayName", "Mail: " + address},
		{"PayloadIdentifier", ident + "." + address},
		{"PayloadRemovalDisallowed", false},
		{"PayloadType", "Configuration"},
		{"PayloadUUID", payloadUUID("profile", address, s.Hostname)},
		{"PayloadVersion", 1},
	})
	b.WriteString("</dict>\n</plist>\n")
	return b.Bytes(), nil
}

type entry struct {
	key   string
	value any // string, int or bool
}

// plistEntries writes key/value pairs of a plist dict.
func plistEntries(b *bytes.Buffer, entries []entry) {
	for _, e := range entries {
		b.WriteString("<key>")
		xml.EscapeText(b, []byte(e.key))
		b.WriteString("</key>\n")
		switch v := e.value.(type) {
		case string:
			b.WriteString("<string>")
			xml.EscapeText(b, []byte(v))
			b.WriteString("</string>\n")
		case int:
			b.WriteString("<integer>" + strconv.Itoa(v) + "</integer>\n")
		case bool:
			if v {
				b.WriteString("<true/>\n")
			} else {
				b.WriteString("<false/>\n")
			}
		}
	}
}

// payloadUUID is a stable UUID (the form of RFC 9562 version 8) of what, the address and host.
func payloadUUID(what, address, host string) string {
	h := sha256.Sum256([]byte(what + "\x00" + address + "\x00" + host))
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
}

// reverse turns a host name into reverse-DNS order, for payload identifiers.
func reverse(host string) string {
	labels := strings.Split(host, ".")
	slices.Reverse(labels)
	return strings.Join(labels, ".")
}
