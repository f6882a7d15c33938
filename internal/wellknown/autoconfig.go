package wellknown

import (
	"bytes"
	"encoding/xml"
	"fmt"
)

// Thunderbird's autoconfig file, version 1.1, as its clients read it from
// https://autoconfig.DOMAIN/mail/config-v1.1.xml and /.well-known/autoconfig/mail/config-v1.1.xml
// (the format: https://wiki.mozilla.org/Thunderbird:Autoconfiguration:ConfigFileFormat).

type clientConfig struct {
	XMLName  xml.Name      `xml:"clientConfig"`
	Version  string        `xml:"version,attr"`
	Provider emailProvider `xml:"emailProvider"`
}

type emailProvider struct {
	ID               string         `xml:"id,attr"`
	Domain           string         `xml:"domain"`
	DisplayName      string         `xml:"displayName"`
	DisplayShortName string         `xml:"displayShortName"`
	Incoming         []clientServer `xml:"incomingServer"`
	Outgoing         []clientServer `xml:"outgoingServer"`
}

type clientServer struct {
	Type           string `xml:"type,attr"`
	Hostname       string `xml:"hostname"`
	Port           int    `xml:"port"`
	SocketType     string `xml:"socketType"`
	Authentication string `xml:"authentication"`
	Username       string `xml:"username"`
}

// Autoconfig returns the autoconfig file of domain. The user name is %EMAILADDRESS%, which the
// client replaces with the address the user typed; the password goes in the clear inside TLS
// ("password-cleartext").
func Autoconfig(domain string, s Services) ([]byte, error) {
	cfg := clientConfig{Version: "1.1", Provider: emailProvider{ID: domain, Domain: domain, DisplayName: domain,
		DisplayShortName: domain}}
	server := func(o offered) clientServer {
		socket := "STARTTLS"
		if o.Implicit {
			socket = "SSL"
		}
		return clientServer{Type: o.protocol, Hostname: s.Hostname, Port: o.Port, SocketType: socket,
			Authentication: "password-cleartext", Username: "%EMAILADDRESS%"}
	}
	for _, o := range s.incoming() {
		cfg.Provider.Incoming = append(cfg.Provider.Incoming, server(o))
	}
	for _, o := range s.outgoing() {
		cfg.Provider.Outgoing = append(cfg.Provider.Outgoing, server(o))
	}
	return marshal(cfg)
}

// marshal writes v as an indented XML document.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	enc := xml.NewEncoder(&b)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}
