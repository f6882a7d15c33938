package mailauth

import (
	"context"
	"net"
	"strings"
)

// fakeDNS is a table-driven dns.Resolver. Names are matched case-insensitively without the
// trailing dot; CNAMEs are followed; fail makes a name's lookups fail temporarily.
type fakeDNS struct {
	txt   map[string][]string
	ip    map[string][]net.IPAddr
	mx    map[string][]*net.MX
	ptr   map[string][]string // by IP address in text form
	cname map[string]string
	fail  map[string]error
	// timeout makes a name's lookups time out for the record types it has no records of.
	timeout map[string]bool
}

func newFakeDNS() *fakeDNS {
	return &fakeDNS{
		txt:     map[string][]string{},
		ip:      map[string][]net.IPAddr{},
		mx:      map[string][]*net.MX{},
		ptr:     map[string][]string{},
		cname:   map[string]string{},
		fail:    map[string]error{},
		timeout: map[string]bool{},
	}
}

func fqdnKey(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

func timeoutError(name string) error {
	return &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true, IsTemporary: true}
}

func notFound(name string) error {
	return &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// resolve follows CNAMEs from name and reports a configured failure on the way.
func (f *fakeDNS) resolve(name string) (string, error) {
	name = fqdnKey(name)
	for range 10 {
		if err := f.fail[name]; err != nil {
			return "", err
		}
		target, ok := f.cname[name]
		if !ok {
			return name, nil
		}
		name = fqdnKey(target)
	}
	return "", &net.DNSError{Err: "cname loop", Name: name, IsTemporary: true}
}

func (f *fakeDNS) LookupTXT(_ context.Context, name string) ([]string, error) {
	n, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	if txt, ok := f.txt[n]; ok && len(txt) > 0 {
		return txt, nil
	}
	return nil, f.missing(n)
}

func (f *fakeDNS) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	n, err := f.resolve(name)
	if err != nil {
		return nil, err
	}
	if mx, ok := f.mx[n]; ok && len(mx) > 0 {
		return mx, nil
	}
	return nil, f.missing(n)
}

func (f *fakeDNS) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	n, err := f.resolve(host)
	if err != nil {
		return nil, err
	}
	if ips, ok := f.ip[n]; ok && len(ips) > 0 {
		return ips, nil
	}
	return nil, f.missing(n)
}

func (f *fakeDNS) LookupAddr(_ context.Context, addr string) ([]string, error) {
	if err := f.fail[addr]; err != nil {
		return nil, err
	}
	if names, ok := f.ptr[addr]; ok && len(names) > 0 {
		return names, nil
	}
	return nil, f.missing(addr)
}

func (f *fakeDNS) missing(name string) error {
	if f.timeout[name] {
		return timeoutError(name)
	}
	return notFound(name)
}
