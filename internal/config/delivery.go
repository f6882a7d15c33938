package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Delivery configures the outbound queue: delivery of submitted mail to other servers.
type Delivery struct {
	// TCP port of the recipients' MX hosts. Default: 25 (tests point it at a loopback server).
	Port int `toml:"port"`
	// "host:port" of a relay that takes every outbound message instead of the recipients' MX
	// hosts (port 465: implicit TLS; any other: STARTTLS when offered). Default: "" (none).
	Smarthost string `toml:"smarthost"`
	// User name for AUTH PLAIN at the smarthost; with it, the smarthost must offer TLS with a
	// certificate valid for its name. Default: "".
	Username string `toml:"username"`
	// Password for AUTH PLAIN at the smarthost. Default: "".
	Password string `toml:"password"`
	// How long a message is retried before it bounces, in hours. Default: 120 (5 days).
	LifetimeHours int `toml:"lifetime_hours"`
	// After how long the sender is told that a message is delayed, in hours. Default: 4.
	DelayNoticeHours int `toml:"delay_notice_hours"`
	// First retry interval, in seconds; it doubles per failed attempt (±20% jitter). Default: 300.
	RetryMinSeconds int `toml:"retry_min_seconds"`
	// Longest retry interval, in seconds. Default: 14400 (4 hours).
	RetryMaxSeconds int `toml:"retry_max_seconds"`
	// Most outbound connections at once. Default: 100.
	MaxConnections int `toml:"max_connections"`
	// Most outbound connections to one destination domain. Default: 10.
	MaxConnectionsPerDomain int `toml:"max_connections_per_domain"`
	// Most messages per second to one destination domain; 0 = no limit. Default: 0.
	RatePerDomain float64 `toml:"rate_per_domain"`
	// Longest wait between full reads of the queue, in seconds (rows that `posthorn queue retry`
	// makes due are noticed within 250 ms anyway). Default: 30.
	PollSeconds int `toml:"poll_seconds"`
}

// DefaultDelivery is the [delivery] section's defaults.
func DefaultDelivery() Delivery {
	return Delivery{
		Port:                    25,
		LifetimeHours:           120,
		DelayNoticeHours:        4,
		RetryMinSeconds:         300,
		RetryMaxSeconds:         14400,
		MaxConnections:          100,
		MaxConnectionsPerDomain: 10,
		PollSeconds:             30,
	}
}

func (d Delivery) validate() error {
	if d.Port < 1 || d.Port > 65535 {
		return fmt.Errorf("key delivery.port: %d is not a TCP port", d.Port)
	}
	if d.Smarthost != "" {
		host, port, err := net.SplitHostPort(d.Smarthost)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return fmt.Errorf("key delivery.smarthost: %q is not host:port", d.Smarthost)
		}
	}
	if d.Username != "" && d.Smarthost == "" {
		return errors.New("key delivery.username: credentials are only for a smarthost; set delivery.smarthost")
	}
	if (d.Username == "") != (d.Password == "") {
		return errors.New("key delivery.username and delivery.password: set both or neither")
	}
	for _, p := range []struct {
		key   string
		value int
	}{
		{"delivery.lifetime_hours", d.LifetimeHours},
		{"delivery.delay_notice_hours", d.DelayNoticeHours},
		{"delivery.retry_min_seconds", d.RetryMinSeconds},
		{"delivery.retry_max_seconds", d.RetryMaxSeconds},
		{"delivery.max_connections", d.MaxConnections},
		{"delivery.max_connections_per_domain", d.MaxConnectionsPerDomain},
		{"delivery.poll_seconds", d.PollSeconds},
	} {
		if p.value <= 0 {
			return fmt.Errorf("key %s: must be greater than 0, got %d", p.key, p.value)
		}
	}
	if d.RetryMaxSeconds < d.RetryMinSeconds {
		return errors.New("key delivery.retry_max_seconds: must not be below delivery.retry_min_seconds")
	}
	if d.RatePerDomain < 0 {
		return errors.New("key delivery.rate_per_domain: must be 0 (no limit) or a number of messages per second")
	}
	return nil
}
