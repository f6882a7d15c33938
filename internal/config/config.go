// Package config is posthorn's one configuration file: a typed Config, its documented defaults, a
// strict loader (an unknown key or a bad value is an error that names the key) and validation
// that refuses risky settings at start-up rather than running with a silent default.
//
// The reference (posthorn config reference) is Reference, a commented TOML text kept beside the
// struct; a test checks that every field appears in it and that it loads to the defaults.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"posthorn/internal/address"
)

// Config is the whole configuration. Field comments give unit and default.
type Config struct {
	// Fully qualified host name used in greetings, Received headers and the self-signed
	// certificate. Default: "localhost".
	Hostname string `toml:"hostname"`
	// Directory holding the database, message bodies and generated keys. Default: "./posthorn-data".
	DataDir string `toml:"data_dir"`
	Server  Server `toml:"server"`
	Listen  Listen `toml:"listen"`
	TLS     TLS    `toml:"tls"`
	DNS     DNS    `toml:"dns"`
	SMTP    SMTP   `toml:"smtp"`
	IMAP    IMAP   `toml:"imap"`
	POP3    POP3   `toml:"pop3"`
	// Submission configures the submission listeners (listen.submission, listen.submissions).
	Submission Submission `toml:"submission"`
	Auth       Auth       `toml:"auth"`
	HTTP       HTTP       `toml:"http"`
	Log        Log        `toml:"log"`
	Limits     Limits     `toml:"limits"`
	Delivery   Delivery   `toml:"delivery"`
	Filter     Filter     `toml:"filter"`
	Campaign   Campaign   `toml:"campaign"`
	MTASTS     MTASTS     `toml:"mta_sts"`
	// Retention says how long mail and records are kept (internal/retention).
	Retention Retention `toml:"retention"`
	Backup    Backup    `toml:"backup"`
}

// Server configures the process itself.
type Server struct {
	// Account the server runs as once it has bound its listeners and opened its certificate
	// and log files, when started as root: a user name or a numeric uid. "" = keep the user
	// it was started as (started as root, that is refused when a listener is on a non-loopback
	// address, and warned about otherwise). The data directory is given to this user. Default: "".
	User string `toml:"user"`
	// Group the server runs as: a group name or a numeric gid; "" = the primary group of
	// server.user. Default: "".
	Group string `toml:"group"`
}

// Listen holds one address per listener, "host:port"; "" disables the listener.
type Listen struct {
	SMTP        string `toml:"smtp"`        // inbound MX. Default: "127.0.0.1:2525".
	Submission  string `toml:"submission"`  // STARTTLS + AUTH (RFC 6409). Default: "127.0.0.1:2587".
	Submissions string `toml:"submissions"` // implicit TLS + AUTH (RFC 8314). Default: "127.0.0.1:2465".
	IMAP        string `toml:"imap"`        // IMAP with STARTTLS. Default: "127.0.0.1:2143".
	IMAPS       string `toml:"imaps"`       // IMAP with implicit TLS. Default: "127.0.0.1:2993".
	POP3        string `toml:"pop3"`        // POP3 with STLS. Default: "127.0.0.1:2110".
	POP3S       string `toml:"pop3s"`       // POP3 with implicit TLS. Default: "127.0.0.1:2995".
	HTTP        string `toml:"http"`        // admin, API, metrics, health. Default: "127.0.0.1:8080".
	// The same routes as listen.http over TLS (implicit, HTTP/2 by ALPN) with the certificate of
	// [tls], and Strict-Transport-Security on every response; "" = off. Off by default, unlike
	// the mail listeners' TLS ports: a browser, a sender fetching an MTA-STS policy or a client
	// fetching autoconfig expects port 443, which a trial server does not have. Default: "".
	HTTPS string `toml:"https"`
}

// TLS says where certificates come from. With neither files nor ACME, a self-signed
// certificate for Hostname is generated once in DataDir.
type TLS struct {
	CertFile  string `toml:"cert_file"`  // PEM certificate chain, with key_file. Default: "".
	KeyFile   string `toml:"key_file"`   // PEM private key. Default: "".
	ACMEEmail string `toml:"acme_email"` // contact for ACME (Let's Encrypt); enables ACME. Default: "".
}

// DNS configures lookups.
type DNS struct {
	Resolver string `toml:"resolver"` // "host:port" of the recursive resolver; "" = system. Default: "".
}

// SMTP configures the inbound MX.
type SMTP struct {
	// Largest accepted message, in MiB. Default: 50.
	MaxMessageSizeMiB int `toml:"max_message_size_mib"`
	// Most recipients per message. Default: 100.
	MaxRecipients int `toml:"max_recipients"`
	// Most simultaneous SMTP connections; more are refused with 421. Default: 1000.
	MaxConnections int `toml:"max_connections"`
	// Most simultaneous connections from one client address (an IPv4 address, an IPv6 /64),
	// on the MX and on submission each; more get 421 4.7.0. Default: 50.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// Time allowed for each command line, counted from when the server waits for it (not
	// renewed by each byte), in seconds. Default: 300 (RFC 5321 §4.5.3.2).
	TimeoutSeconds int `toml:"timeout_seconds"`
}

// IMAP configures the IMAP listeners (listen.imap, listen.imaps).
type IMAP struct {
	// Let LOGIN and AUTHENTICATE PLAIN work without TLS on connections from a loopback
	// address; from anywhere else they need TLS (LOGINDISABLED until STARTTLS). Default: true.
	AllowPlaintextLoopback bool `toml:"allow_plaintext_loopback"`
	// Most simultaneous IMAP connections, both listeners together; more get "* BYE" at
	// once. Default: 1000.
	MaxConnections int `toml:"max_connections"`
	// Most simultaneous IMAP connections from one client address (an IPv4 address, an IPv6
	// /64); more get "* BYE [UNAVAILABLE]" at once. Default: 50.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// Time a connection has from its start to log in, in seconds; NOOPs do not extend it.
	// Default: 60.
	LoginTimeoutSeconds int `toml:"login_timeout_seconds"`
}

// POP3 configures the POP3 listeners (listen.pop3, listen.pop3s).
type POP3 struct {
	// Let USER/PASS and AUTH PLAIN work without TLS on connections from a loopback address;
	// from anywhere else they need TLS (STLS first). Default: true.
	AllowPlaintextLoopback bool `toml:"allow_plaintext_loopback"`
	// Most simultaneous POP3 connections, both listeners together; more get "-ERR" at once.
	// Default: 1000.
	MaxConnections int `toml:"max_connections"`
	// Most simultaneous POP3 connections from one client address (an IPv4 address, an IPv6
	// /64); more get "-ERR [IN-USE]" at once. Default: 50.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// Time a connection has from its start to log in, in seconds. Default: 60.
	LoginTimeoutSeconds int `toml:"login_timeout_seconds"`
}

// Submission configures the submission listeners (listen.submission, listen.submissions).
type Submission struct {
	// Let AUTH work without TLS on connections from a loopback address; from anywhere else it
	// needs TLS (STARTTLS first, 530 5.7.0 before). Default: true.
	AllowPlaintextLoopback bool `toml:"allow_plaintext_loopback"`
	// Time a connection has from its start to authenticate, in seconds; NOOPs do not extend
	// it. Default: 60.
	LoginTimeoutSeconds int `toml:"login_timeout_seconds"`
}

// HTTP configures the HTTP listeners (listen.http, listen.https).
type HTTP struct {
	// Most simultaneous HTTP connections, on each of the two listeners; more get 503 at once
	// (on listen.https the connection is closed, before TLS). Default: 200.
	MaxConnections int `toml:"max_connections"`
	// Most simultaneous HTTP connections from one client address (an IPv4 address, an IPv6
	// /64); more get 503 at once. Default: 20.
	MaxConnectionsPerAddress int `toml:"max_connections_per_address"`
	// Time to read a whole request, headers and body, in seconds. Default: 30.
	ReadTimeoutSeconds int `toml:"read_timeout_seconds"`
	// Time to write a response, in seconds. Default: 60.
	WriteTimeoutSeconds int `toml:"write_timeout_seconds"`
	// Time a keep-alive connection may wait for its next request, in seconds. Default: 60.
	IdleTimeoutSeconds int `toml:"idle_timeout_seconds"`
	// Client networks (CIDR) that may read GET /metrics without a token. Default:
	// ["127.0.0.0/8", "::1/128"].
	MetricsNetworks []string `toml:"metrics_networks"`
	// Bearer token that lets any client read GET /metrics ("Authorization: Bearer TOKEN");
	// "" = none. Default: "".
	MetricsToken string `toml:"metrics_token"`
	// Serve the web UI: the login, self-service under /account/ and, for accounts with the
	// admin flag (posthorn user admin), /admin/. Its cookies are Secure, so a browser that is
	// not on the server itself needs https (listen.https, or a TLS-terminating proxy in front
	// of listen.http). Default: true.
	UI bool `toml:"ui"`
}

// Auth configures logins, for every protocol.
type Auth struct {
	// How long a verified password is remembered in memory (as a keyed hash), so that a client
	// logging in again does not pay argon2id again, in seconds; 0 = no cache. A change of the
	// password, an app password or the account ends it at once. Default: 300.
	CacheSeconds int `toml:"cache_seconds"`
}

// Log configures the server log and the mail log.
type Log struct {
	// Minimum level: "debug", "info", "warn" or "error". Default: "info".
	Level string `toml:"level"`
	// "text" or "json". Default: "text".
	Format string `toml:"format"`
	// File for the mail log (one line per mail event); "" = the server log. Default: "".
	MailLog string `toml:"mail_log"`
}

// Limits bounds what an account may store.
type Limits struct {
	// Storage quota of an account without its own (posthorn user quota), in MiB; 0 = no quota.
	// Over it, SMTP refuses the account's mail with 452 4.2.2 and IMAP APPEND and COPY answer
	// NO [OVERQUOTA] (RFC 9208). Default: 0.
	DefaultQuotaMiB int64 `toml:"default_quota_mib"`
	// Recipients an account may send to per hour through submission, unless set for it with
	// posthorn user send-limit; 0 = no limit. Over it, RCPT gets 451 4.7.1. Default: 1000.
	SendPerHour int64 `toml:"send_per_hour"`
	// Recipients an account may send to per day (24 hours); 0 = no limit. Default: 5000.
	SendPerDay int64 `toml:"send_per_day"`
}

// Default returns the configuration of `posthorn serve` without a file: a server for trying
// posthorn out on loopback with unprivileged ports.
func Default() Config {
	return Config{
		Hostname: "localhost",
		DataDir:  "./posthorn-data",
		Listen: Listen{
			SMTP:        "127.0.0.1:2525",
			Submission:  "127.0.0.1:2587",
			Submissions: "127.0.0.1:2465",
			IMAP:        "127.0.0.1:2143",
			IMAPS:       "127.0.0.1:2993",
			POP3:        "127.0.0.1:2110",
			POP3S:       "127.0.0.1:2995",
			HTTP:        "127.0.0.1:8080",
		},
		SMTP: SMTP{
			MaxMessageSizeMiB:        50,
			MaxRecipients:            100,
			MaxConnections:           1000,
			MaxConnectionsPerAddress: 50,
			TimeoutSeconds:           300,
		},
		IMAP: IMAP{
			AllowPlaintextLoopback:   true,
			MaxConnections:           1000,
			MaxConnectionsPerAddress: 50,
			LoginTimeoutSeconds:      60,
		},
		POP3: POP3{
			AllowPlaintextLoopback:   true,
			MaxConnections:           1000,
			MaxConnectionsPerAddress: 50,
			LoginTimeoutSeconds:      60,
		},
		Submission: Submission{AllowPlaintextLoopback: true, LoginTimeoutSeconds: 60},
		HTTP: HTTP{
			MaxConnections: 200, MaxConnectionsPerAddress: 20,
			ReadTimeoutSeconds: 30, WriteTimeoutSeconds: 60, IdleTimeoutSeconds: 60,
			MetricsNetworks: []string{"127.0.0.0/8", "::1/128"},
			UI:              true,
		},
		Auth:     Auth{CacheSeconds: 300},
		Log:      Log{Level: "info", Format: "text"},
		Limits:   Limits{SendPerHour: 1000, SendPerDay: 5000},
		Delivery: DefaultDelivery(),
		Filter:   DefaultFilter(),
		Campaign: DefaultCampaign(),
		MTASTS:   DefaultMTASTS(),
		// Retention: everything kept until a rule says otherwise.
		Retention: DefaultRetention(),
		Backup:    DefaultBackup(),
	}
}

// Load reads a TOML file over the defaults. Unknown keys are errors; so is anything Validate refuses.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	// Relative paths in a file are relative to the file, so the server finds the same data
	// whatever directory it is started from.
	base := filepath.Dir(path)
	for _, p := range []*string{&c.DataDir, &c.TLS.CertFile, &c.TLS.KeyFile, &c.Log.MailLog, &c.Backup.Directory} {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(base, *p)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML over the defaults without validating.
func Parse(data []byte) (Config, error) {
	c := Default()
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			keys := make([]string, len(strict.Errors))
			for i, e := range strict.Errors {
				keys[i] = strings.Join(e.Key(), ".")
			}
			return Config{}, fmt.Errorf("unknown key %s", strings.Join(keys, ", "))
		}
		var decErr *toml.DecodeError
		if errors.As(err, &decErr) {
			row, col := decErr.Position()
			key := strings.Join(decErr.Key(), ".")
			if key != "" {
				return Config{}, fmt.Errorf("line %d column %d: key %s: %s", row, col, key, decErr.Error())
			}
			return Config{}, fmt.Errorf("line %d column %d: %s", row, col, decErr.Error())
		}
		return Config{}, err
	}
	return c, nil
}

// Validate refuses configurations that cannot work or would be risky.
func (c *Config) Validate() error {
	if _, err := address.ParseDomain(c.Hostname); err != nil {
		return fmt.Errorf("key hostname: %q: %v", c.Hostname, err)
	}
	if c.DataDir == "" {
		return errors.New("key data_dir: must not be empty")
	}
	if c.Server.Group != "" && c.Server.User == "" {
		return errors.New("key server.group: needs server.user")
	}
	listeners := []struct {
		key, value  string
		implemented bool
	}{
		{"listen.smtp", c.Listen.SMTP, true},
		{"listen.submission", c.Listen.Submission, true},
		{"listen.submissions", c.Listen.Submissions, true},
		{"listen.imap", c.Listen.IMAP, true},
		{"listen.imaps", c.Listen.IMAPS, true},
		{"listen.pop3", c.Listen.POP3, true},
		{"listen.pop3s", c.Listen.POP3S, true},
		{"listen.http", c.Listen.HTTP, true},
		{"listen.https", c.Listen.HTTPS, true},
	}
	enabled := 0
	for _, l := range listeners {
		if l.value == "" {
			continue
		}
		if !l.implemented {
			return fmt.Errorf("key %s: this protocol is not implemented in this version; set it to \"\"", l.key)
		}
		if _, port, err := net.SplitHostPort(l.value); err != nil || port == "" {
			return fmt.Errorf("key %s: %q is not host:port", l.key, l.value)
		}
		enabled++
	}
	if enabled == 0 {
		return errors.New("key listen: every listener is disabled")
	}
	// Port 0 (any free port, the tests') is no clash.
	if _, port, _ := net.SplitHostPort(c.Listen.HTTPS); c.Listen.HTTPS == c.Listen.HTTP && port != "" && port != "0" {
		return fmt.Errorf("key listen.https: %q is listen.http's address too; give each its own port", c.Listen.HTTPS)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("key tls.cert_file and tls.key_file: set both or neither")
	}
	if c.TLS.CertFile != "" && c.TLS.ACMEEmail != "" {
		return errors.New("key tls.acme_email: cannot be combined with tls.cert_file")
	}
	// In this order, so the error names the same key every time.
	for _, f := range [...]struct{ key, path string }{{"tls.cert_file", c.TLS.CertFile}, {"tls.key_file", c.TLS.KeyFile}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("key %s: %w", f.key, err)
		}
	}
	if c.DNS.Resolver != "" {
		if _, _, err := net.SplitHostPort(c.DNS.Resolver); err != nil {
			return fmt.Errorf("key dns.resolver: %q is not host:port", c.DNS.Resolver)
		}
	}
	positive := []struct {
		key   string
		value int
	}{
		{"smtp.max_message_size_mib", c.SMTP.MaxMessageSizeMiB},
		{"smtp.max_recipients", c.SMTP.MaxRecipients},
		{"smtp.max_connections", c.SMTP.MaxConnections},
		{"smtp.timeout_seconds", c.SMTP.TimeoutSeconds},
		{"smtp.max_connections_per_address", c.SMTP.MaxConnectionsPerAddress},
		{"imap.max_connections", c.IMAP.MaxConnections},
		{"imap.max_connections_per_address", c.IMAP.MaxConnectionsPerAddress},
		{"imap.login_timeout_seconds", c.IMAP.LoginTimeoutSeconds},
		{"pop3.max_connections", c.POP3.MaxConnections},
		{"pop3.max_connections_per_address", c.POP3.MaxConnectionsPerAddress},
		{"pop3.login_timeout_seconds", c.POP3.LoginTimeoutSeconds},
		{"submission.login_timeout_seconds", c.Submission.LoginTimeoutSeconds},
		{"http.max_connections", c.HTTP.MaxConnections},
		{"http.max_connections_per_address", c.HTTP.MaxConnectionsPerAddress},
		{"http.read_timeout_seconds", c.HTTP.ReadTimeoutSeconds},
		{"http.write_timeout_seconds", c.HTTP.WriteTimeoutSeconds},
		{"http.idle_timeout_seconds", c.HTTP.IdleTimeoutSeconds},
	}
	for _, p := range positive {
		if p.value <= 0 {
			return fmt.Errorf("key %s: must be greater than 0, got %d", p.key, p.value)
		}
	}
	if c.Auth.CacheSeconds < 0 {
		return fmt.Errorf("key auth.cache_seconds: must be 0 (no cache) or a number of seconds, got %d", c.Auth.CacheSeconds)
	}
	for _, n := range c.HTTP.MetricsNetworks {
		if _, err := netip.ParsePrefix(n); err != nil {
			return fmt.Errorf("key http.metrics_networks: %q is not a network in CIDR notation", n)
		}
	}
	if c.Limits.DefaultQuotaMiB < 0 || c.Limits.DefaultQuotaMiB > 1<<40 {
		return fmt.Errorf("key limits.default_quota_mib: must be 0 (no quota) or a size in MiB, got %d", c.Limits.DefaultQuotaMiB)
	}
	if c.Limits.SendPerHour < 0 || c.Limits.SendPerDay < 0 {
		return errors.New("key limits.send_per_hour and limits.send_per_day: must be 0 (no limit) or a number of recipients")
	}
	if err := c.Delivery.validate(); err != nil {
		return err
	}
	if err := c.Campaign.validate(); err != nil {
		return err
	}
	if err := c.MTASTS.validate(); err != nil {
		return err
	}
	if err := c.Backup.validate(); err != nil {
		return err
	}
	if c.Backup.Directory != "" && filepath.Clean(c.Backup.Directory) == filepath.Clean(c.DataDir) {
		return errors.New("key backup.directory: must not be data_dir itself")
	}
	if err := c.Filter.validate(); err != nil {
		return err
	}
	if err := c.Retention.validate(); err != nil {
		return err
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("key log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("key log.format: %q is not one of text, json", c.Log.Format)
	}
	return nil
}

// Marshal renders c as TOML, for `posthorn init`.
func (c Config) Marshal() ([]byte, error) {
	return toml.Marshal(c)
}
