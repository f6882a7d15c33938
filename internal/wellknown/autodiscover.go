package wellknown

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// Outlook's "plain old XML" autodiscover (Exchange 2007's POX protocol, which Outlook still
// asks of non-Exchange servers): the client POSTs a Request naming the address and the
// response schema it accepts to /autodiscover/autodiscover.xml on autodiscover.DOMAIN (or
// DOMAIN), and gets the settings of each protocol back.

// The namespaces of the POX request and response.
const (
	autodiscoverRequestNS  = "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"
	autodiscoverResponseNS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
	// OutlookSchema is the response schema of mail settings, the only one served.
	OutlookSchema = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
)

// ErrUnsupportedSchema is a request for another response schema than OutlookSchema (such as
// ActiveSync's mobilesync), which posthorn does not serve.
var ErrUnsupportedSchema = errors.New("autodiscover: unsupported response schema")

type autodiscoverRequest struct {
	XMLName xml.Name `xml:"Autodiscover"`
	Request struct {
		EMailAddress             string `xml:"EMailAddress"`
		AcceptableResponseSchema string `xml:"AcceptableResponseSchema"`
	} `xml:"Request"`
}

// ParseAutodiscover reads a POX request and returns the address it asks about, not yet
// validated. A request in another namespace, without an address or for another response
// schema is an error.
func ParseAutodiscover(r io.Reader) (string, error) {
	var req autodiscoverRequest
	dec := xml.NewDecoder(r)
	dec.Strict = true
	if err := dec.Decode(&req); err != nil {
		return "", fmt.Errorf("autodiscover request: %w", err)
	}
	if req.XMLName.Space != autodiscoverRequestNS {
		return "", fmt.Errorf("autodiscover request in namespace %q, want %q", req.XMLName.Space, autodiscoverRequestNS)
	}
	if s := req.Request.AcceptableResponseSchema; s != "" && s != OutlookSchema {
		return "", fmt.Errorf("%w %q", ErrUnsupportedSchema, s)
	}
	if req.Request.EMailAddress == "" {
		return "", errors.New("autodiscover request without EMailAddress")
	}
	return req.Request.EMailAddress, nil
}

type autodiscoverResponse struct {
	XMLName  xml.Name `xml:"Autodiscover"`
	NS       string   `xml:"xmlns,attr"`
	Response struct {
		NS      string `xml:"xmlns,attr"`
		Account struct {
			AccountType string     `xml:"AccountType"`
			Action      string     `xml:"Action"`
			Protocols   []protocol `xml:"Protocol"`
		} `xml:"Account"`
	} `xml:"Response"`
}

// protocol is one POX Protocol element: SSL on for implicit TLS; SSL off and Encryption TLS
// (which takes precedence over SSL for the clients that know it) for STARTTLS.
type protocol struct {
	Type           string `xml:"Type"`
	Server         string `xml:"Server"`
	Port           int    `xml:"Port"`
	DomainRequired string `xml:"DomainRequired"`
	LoginName      string `xml:"LoginName"`
	SPA            string `xml:"SPA"`
	SSL            string `xml:"SSL"`
	Encryption     string `xml:"Encryption,omitempty"`
	AuthRequired   string `xml:"AuthRequired"`
}

// Autodiscover returns the POX answer for address (already validated by the caller): the
// offered protocols, preferred first, each with the address as login name.
func Autodiscover(address string, s Services) ([]byte, error) {
	var resp autodiscoverResponse
	resp.NS, resp.Response.NS = autodiscoverResponseNS, OutlookSchema
	resp.Response.Account.AccountType, resp.Response.Account.Action = "email", "settings"
	for _, o := range append(s.incoming(), s.outgoing()...) {
		p := protocol{Type: map[string]string{"imap": "IMAP", "pop3": "POP3", "smtp": "SMTP"}[o.protocol],
			Server: s.Hostname, Port: o.Port, DomainRequired: "off", LoginName: address, SPA: "off", SSL: "on",
			AuthRequired: "on"}
		if !o.Implicit {
			p.SSL, p.Encryption = "off", "TLS"
		}
		resp.Response.Account.Protocols = append(resp.Response.Account.Protocols, p)
	}
	return marshal(resp)
}
