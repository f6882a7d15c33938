package config

import (
	"reflect"
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
		{"[[campaign.webhooks]]\nurl = \"ftp://hooks.example\"\nsecret = \"s\"", "campaign.webhooks[0].url"},
		{"[[campaign.webhooks]]\nurl = \"hooks.example/in\"\nsecret = \"s\"", "campaign.webhooks[0].url"},
		{"[[campaign.webhooks]]\nurl = \"https://hooks.example/in\"", "campaign.webhooks[0].secret"},
		{"[[campaign.webhooks]]\nurl = \"https://hooks.example/in\"\nsecret = \"s\"\nevents = [\"open\", \"opened\"]",
			"campaign.webhooks[0].events: \"opened\""},
		{"[[campaign.webhooks]]\nurl = \"https://a.example/\"\nsecret = \"s\"\n[[campaign.webhooks]]\nurl = \"https://a.example/\"\nsecret = \"t\"",
			"campaign.webhooks[1].url"},
		{"[[campaign.webhooks]]\nurl = \"https://a.example/\"\nsecret = \"s\"\nsecrets = \"t\"", "secrets"},
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
	c, err = Parse([]byte("[[campaign.webhooks]]\nurl = \"https://hooks.example/in\"\nsecret = \"s3cret\"\n" +
		"events = [\"bounce\", \"complaint\"]\n[[campaign.webhooks]]\nurl = \"http://10.0.0.5:8080/all\"\nsecret = \"x\""))
	if err == nil {
		err = c.Validate()
	}
	if err != nil {
		t.Fatal(err)
	}
	want := []CampaignWebhook{{URL: "https://hooks.example/in", Secret: "s3cret", Events: []string{"bounce", "complaint"}},
		{URL: "http://10.0.0.5:8080/all", Secret: "x"}}
	if !reflect.DeepEqual(c.Campaign.Webhooks, want) {
		t.Errorf("webhooks = %+v", c.Campaign.Webhooks)
	}
}
