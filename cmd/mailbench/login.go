package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// loginConfig is the configuration of a login run.
type loginConfig struct {
	Protocol       string // "imap" or "pop3"
	Addr           string // server address, host:port
	User, Password string
	Count          int           // logins, one after the other. Default: 100.
	Timeout        time.Duration // for one whole login. Default: 30s.
}

func newLoginCommand() *cobra.Command {
	cfg := loginConfig{Protocol: "imap", Count: 100, Timeout: 30 * time.Second}
	cmd := &cobra.Command{
		Use:   "login --proto imap|pop3 --addr HOST:PORT --user USER --password PASS [--count N]",
		Short: "Time connect, login and logout, repeated, over IMAP or POP3",
		Long: `Connect, log in and log out --count times, one after the other, and report the
latency of the whole of each (connect, greeting, LOGIN or USER/PASS, LOGOUT or
QUIT, until the server's answer), in plain text: the server must allow
plaintext logins on the address (loopback).

It prints one line: "login p50_ms P p90_ms P max_ms M count N".

Exit status: 0 if every login succeeded, 1 otherwise, 2 for a bad command line.`,
		Example: "  mailbench login --proto pop3 --addr 127.0.0.1:2610 --user u1@test.example --password pass1 --count 200",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.Protocol != "imap" && cfg.Protocol != "pop3" {
				return fmt.Errorf("--proto %q: want imap or pop3", cfg.Protocol)
			}
			if cfg.Count < 1 {
				return fmt.Errorf("--count %d: must be at least 1", cfg.Count)
			}
			var times []time.Duration
			for range cfg.Count {
				start := time.Now()
				if err := loginOnce(cmd.Context(), cfg); err != nil {
					return runFailure{err}
				}
				times = append(times, time.Since(start))
			}
			l := summarizeLatencies(times)
			_, err := fmt.Fprintf(cmd.OutOrStdout(), "login p50_ms %.2f p90_ms %.2f max_ms %.2f count %d\n", l.P50, l.P90, l.Max, len(times))
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.Protocol, "proto", cfg.Protocol, "imap or pop3")
	f.StringVar(&cfg.Addr, "addr", "", "server address, HOST:PORT")
	f.StringVar(&cfg.User, "user", "", "user name")
	f.StringVar(&cfg.Password, "password", "", "password")
	f.IntVar(&cfg.Count, "count", cfg.Count, "logins, one after the other")
	f.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "time allowed for one login")
	for _, name := range []string{"addr", "user", "password"} {
		if err := cmd.MarkFlagRequired(name); err != nil {
			panic(err) // a flag name above is misspelt
		}
	}
	return cmd
}

// loginOnce connects, logs in and logs out once.
func loginOnce(ctx context.Context, cfg loginConfig) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(cfg.Timeout)); err != nil {
		return err
	}
	r := bufio.NewReader(conn)
	// expect reads lines until one starts with prefix; a line starting with fail is an error.
	expect := func(prefix, fail string) error {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			if strings.HasPrefix(line, prefix) {
				return nil
			}
			if strings.HasPrefix(line, fail) || (cfg.Protocol == "pop3" && strings.HasPrefix(line, "-ERR")) {
				return errors.New(strings.TrimSpace(line))
			}
		}
	}
	send := func(line string) error {
		_, err := conn.Write([]byte(line + "\r\n"))
		return err
	}
	if cfg.Protocol == "imap" {
		steps := []struct{ name, send, want, fail string }{
			{"greeting", "", "* OK", "* BYE"},
			{"LOGIN", "a LOGIN " + quote(cfg.User) + " " + quote(cfg.Password), "a OK", "a "},
			{"LOGOUT", "b LOGOUT", "b OK", "b "},
		}
		for _, s := range steps {
			if s.send != "" {
				if err := send(s.send); err != nil {
					return err
				}
			}
			if err := expect(s.want, s.fail); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		return nil
	}
	for _, s := range []struct{ name, send string }{{"greeting", ""}, {"USER", "USER " + cfg.User},
		{"PASS", "PASS " + cfg.Password}, {"QUIT", "QUIT"}} {
		if s.send != "" {
			if err := send(s.send); err != nil {
				return err
			}
		}
		if err := expect("+OK", "-ERR"); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	return nil
}
