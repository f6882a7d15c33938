package config

import (
	"strings"
	"testing"
)

func TestFilterSpamValidation(t *testing.T) {
	for text, key := range map[string]string{
		"[filter.spam]\njunk_threshold = 0":                         "filter.spam.junk_threshold",
		"[filter.spam]\nreject_threshold = 4":                       "filter.spam.reject_threshold",
		"[filter.spam]\nuribl = [\"multi.example.org/x\"]":          "filter.spam.uribl",
		"[filter.spam]\ntrain_interval_seconds = 0":                 "filter.spam.train_interval_seconds",
		"[filter]\nspam = true":                                     "filter.spam",
		"[filter.spam]\nthreshold = 5":                              "filter.spam.threshold",
		"[filter.spam]\njunk_threshold = 6\nreject_threshold = 5.5": "filter.spam.reject_threshold",
	} {
		c, err := Parse([]byte(text))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: error %v, want one naming %s", text, err, key)
		}
	}
	c, err := Parse([]byte("[filter.spam]\njunk_threshold = 4.5\nreject_threshold = 12\ndnsbl = [\"zen.example.org\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if s := c.Filter.Spam; !s.Enabled || s.JunkThreshold != 4.5 || s.RejectThreshold != 12 || len(s.DNSBL) != 1 {
		t.Errorf("%+v", s)
	}
}
