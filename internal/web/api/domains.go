package api

import (
	"net/http"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
)

type domainView struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// domainDetailView is one domain with its DKIM keys (the public halves) and the DNS records
// to publish, as `posthorn domain dns` prints them.
type domainDetailView struct {
	domainView
	DKIMKeys   []dkimKeyView   `json:"dkim_keys"`
	DNSRecords []dnsRecordView `json:"dns_records"`
}

type dkimKeyView struct {
	Selector  string    `json:"selector"`
	Algorithm string    `json:"algorithm"`
	CreatedAt time.Time `json:"created_at"`
	// Record and Value are the TXT record publishing the public key (RFC 6376 §3.6.2).
	Record string `json:"record"`
	Value  string `json:"value"`
}

type dnsRecordView struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	TTL     int    `json:"ttl"`
	Value   string `json:"value"`
	Purpose string `json:"purpose"`
}

func viewDomain(d store.Domain) domainView {
	return domainView{Name: d.Name, CreatedAt: d.CreatedAt.UTC()}
}

func viewDKIMKeys(keys []store.DKIMKey) ([]dkimKeyView, error) {
	out := make([]dkimKeyView, 0, len(keys))
	for _, k := range keys {
		name, value, err := mailauth.DKIMRecord(k)
		if err != nil {
			return nil, err
		}
		out = append(out, dkimKeyView{Selector: k.Selector, Algorithm: k.Algorithm, CreatedAt: k.CreatedAt.UTC(),
			Record: name, Value: value})
	}
	return out, nil
}

func listDomains(a *API, w http.ResponseWriter, r *http.Request) error {
	domains, err := a.cfg.Admin.ListDomains(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Domains []domainView `json:"domains"`
	}{Domains: make([]domainView, 0, len(domains))}
	for _, d := range domains {
		out.Domains = append(out.Domains, viewDomain(d))
	}
	a.writeJSON(w, r, http.StatusOK, out)
	return nil
}

// domainInput is the body of POST /api/v1/domains.
type domainInput struct {
	Name string `json:"name"`
}

// createDomain adds a domain with its DKIM keys and answers it as GET does.
func createDomain(a *API, w http.ResponseWriter, r *http.Request) error {
	var in domainInput
	if err := decodeJSON(w, r, &in); err != nil {
		return err
	}
	if _, err := a.cfg.Admin.AddDomain(r.Context(), in.Name); err != nil {
		return err
	}
	return a.writeDomain(w, r, in.Name, http.StatusCreated)
}

func getDomain(a *API, w http.ResponseWriter, r *http.Request) error {
	return a.writeDomain(w, r, r.PathValue("name"), http.StatusOK)
}

// writeDomain answers the domain name with its keys and records.
func (a *API) writeDomain(w http.ResponseWriter, r *http.Request, name string, status int) error {
	d, err := a.cfg.Admin.GetDomain(r.Context(), name)
	if err != nil {
		return err
	}
	keys, err := a.cfg.Admin.DomainKeys(r.Context(), d.Name)
	if err != nil {
		return err
	}
	records, err := a.cfg.Admin.DNSRecords(r.Context(), d.Name, a.cfg.DNS)
	if err != nil {
		return err
	}
	out := domainDetailView{domainView: viewDomain(d), DNSRecords: make([]dnsRecordView, 0, len(records))}
	if out.DKIMKeys, err = viewDKIMKeys(keys); err != nil {
		return err
	}
	for _, rec := range records {
		out.DNSRecords = append(out.DNSRecords, viewDNSRecord(rec))
	}
	a.writeJSON(w, r, status, out)
	return nil
}

func viewDNSRecord(rec admin.DNSRecord) dnsRecordView {
	return dnsRecordView{Name: rec.Name, Type: rec.Type, TTL: rec.TTL, Value: rec.Value, Purpose: rec.Purpose}
}

// removeDomain removes a domain without accounts or aliases (409 in_use otherwise).
func removeDomain(a *API, w http.ResponseWriter, r *http.Request) error {
	return noContent(w, a.cfg.Admin.RemoveDomain(r.Context(), r.PathValue("name")))
}
