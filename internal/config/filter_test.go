package config

import (
	"strings"
	"testing"
)

func TestFilterValidation(t *testing.T) {
	for text, key := range map[string]string{
		"[filter]\ndmarc_reject = \"drop\"":                     "filter.dmarc_reject",
		"[filter]\nexempt_networks = [\"10.0.0.1\"]":            "filter.exempt_networks",
		"[filter]\nconnections_per_minute = -1":                 "filter.connections_per_minute",
		"[filter]\ndnsbl = [\"zen.example.org/24\"]":            "filter.dnsbl",
		"[filter.clamd]\naddress = \"unix:clamd.ctl\"":          "filter.clamd.address",
		"[filter.clamd]\naddress = \"localhost\"":               "filter.clamd.address",
		"[filter.clamd]\nfail = \"ignore\"":                     "filter.clamd.fail",
		"[filter.clamd]\nscan = \"text\"":                       "filter.clamd.scan",
		"[filter.clamd]\ntimeout_seconds = 0":                   "filter.clamd.timeout_seconds",
		"[filter.attachments]\nblocked_extensions = [\".iso\"]": "filter.attachments.blocked_extensions",
		"[filter.greylist]\ndelay_seconds = 0":                  "filter.greylist.delay_seconds",
		"[filter]\nrbl = []":                                    "filter.rbl",
	} {
		c, err := Parse([]byte(text))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %s", text, err, key)
		}
	}
	c, err := Parse([]byte("[filter]\nexempt_networks = [\"192.0.2.7/24\"]\n[filter.clamd]\naddress = \"unix:/run/clamav/clamd.ctl\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if p := c.Filter.ExemptPrefixes(); len(p) != 1 || p[0].String() != "192.0.2.0/24" {
		t.Fatalf("exempt %v", p)
	}
}
