package config

import (
	"strings"
	"testing"
)

func TestCampaignValidate(t *testing.T) {
	for _, tc := range []struct {
		toml, want string
	}{
		{"[campaign]\npublic_url = \"ftp://x.example\"", "campaign.public_url"},
		{"[campaign]\npublic_url = \"https://x.example/?a=1\"", "campaign.public_url"},
		{"[campaign]\nabuse_address = \"not an address\"", "campaign.abuse_address"},
		{"[campaign]\ntrack_ip = \"half\"", "campaign.track_ip"},
		{"[campaign]\nproxy_networks = [\"17.0.0.0\"]", "campaign.proxy_networks"},
		{"[campaign]\nscanner_agents = [\" \"]", "campaign.scanner_agents"},
		{"[campaign]\nconfirm_hours = 0", "campaign.confirm_hours"},
	} {
		c, err := Parse([]byte(tc.toml))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an error naming %s", tc.toml, err, tc.want)
		}
	}
	c, err := Parse([]byte("[campaign]\npublic_url = \"https://news.example.org\"\nabuse_address = \"abuse@example.org\"\nproxy_networks = [\"17.0.0.0/8\"]"))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Campaign.ProxyPrefixes(); len(got) != 1 || got[0].String() != "17.0.0.0/8" {
		t.Errorf("ProxyPrefixes = %v", got)
	}
}
