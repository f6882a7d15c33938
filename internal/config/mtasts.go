package config

import "fmt"

// MTASTS configures the MTA-STS policy (RFC 8461) served for every local domain at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt by the http listener, and printed by
// "posthorn domain dns" with its id. The policy names Hostname as the only MX host.
type MTASTS struct {
	// What senders do when they cannot reach the MX host over verified TLS: "enforce" (not
	// deliver), "testing" (deliver and report, RFC 8460) or "none" (the policy is withdrawn).
	// Default: "enforce".
	Mode string `toml:"mode"`
	// How long senders keep the policy, in seconds (at most 31557600, RFC 8461 §3.2).
	// Default: 604800 (a week).
	MaxAgeSeconds int `toml:"max_age_seconds"`
}

// DefaultMTASTS returns the defaults of [mta_sts].
func DefaultMTASTS() MTASTS { return MTASTS{Mode: "enforce", MaxAgeSeconds: 604800} }

func (m MTASTS) validate() error {
	switch m.Mode {
	case "enforce", "testing", "none":
	default:
		return fmt.Errorf("key mta_sts.mode: %q is not one of enforce, testing, none", m.Mode)
	}
	if m.MaxAgeSeconds < 1 || m.MaxAgeSeconds > 31557600 {
		return fmt.Errorf("key mta_sts.max_age_seconds: %d is not between 1 and 31557600", m.MaxAgeSeconds)
	}
	return nil
}
