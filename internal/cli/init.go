package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"posthorn/internal/address"
	"posthorn/internal/admin"
	"posthorn/internal/app"
	"posthorn/internal/config"
)

func (e *env) initCmd() *cobra.Command {
	var hostname, domain, dataDir string
	cmd := &cobra.Command{
		Use:   "init --hostname H --domain D [--data DIR]",
		Short: "Write a production configuration and create the first domain and postmaster account",
		Long: `Write a configuration for a real deployment (standard ports, all addresses, running as user
posthorn once the ports are bound) to the file of -c
(default ./posthorn.toml), create its data directory with domain D and the account postmaster@D,
and print that account's password once. An existing configuration file is never overwritten.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if hostname == "" || domain == "" {
				return errors.New("init: --hostname and --domain are required")
			}
			path := e.configPath
			if path == "" {
				path = "posthorn.toml"
			}
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("init: %s exists; remove it or choose another file with -c", path)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("init: %w", err)
			}
			h, err := address.ParseDomain(hostname)
			if err != nil {
				return fmt.Errorf("init: --hostname %q: %v", hostname, err)
			}
			d, err := address.ParseDomain(domain)
			if err != nil {
				return fmt.Errorf("init: --domain %q: %v", domain, err)
			}
			cfg := config.Default()
			cfg.Hostname = h
			cfg.DataDir = dataDir
			cfg.Listen.SMTP = ":25"
			cfg.Listen.Submission = ":587"
			cfg.Listen.Submissions = ":465"
			cfg.Listen.IMAP = ":143"
			cfg.Listen.IMAPS = ":993"
			cfg.Listen.POP3 = ":110"
			cfg.Listen.POP3S = ":995"
			cfg.Listen.HTTP = ":8080"
			// Started as root to bind ports 25, 143 and so on, the server then runs as this
			// account; under systemd's docs/posthorn.service it is started as it directly.
			cfg.Server.User = "posthorn"
			if err := cfg.Validate(); err != nil {
				return fmt.Errorf("init: %w", err)
			}
			text, err := cfg.Marshal()
			if err != nil {
				return err
			}
			header := "# posthorn configuration written by `posthorn init`; `posthorn config reference` documents every key.\n\n"
			if err := os.WriteFile(path, append([]byte(header), text...), 0o640); err != nil {
				return fmt.Errorf("init: %w", err)
			}
			// The data directory is relative to the file, as Load reads it.
			if !filepath.IsAbs(cfg.DataDir) {
				cfg.DataDir = filepath.Join(filepath.Dir(path), cfg.DataDir)
			}
			data, err := app.OpenData(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			password, err := (&admin.Admin{Store: data.Store, Credentials: data.Credentials, Blobs: data.Blobs}).Bootstrap(cmd.Context(), d)
			if cerr := data.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "Wrote %s (hostname %s, data in %s).\n", path, h, cfg.DataDir)
			if password != "" {
				fmt.Fprintf(e.stdout, "Created domain %s and account postmaster@%s.\n", d, d)
				fmt.Fprintf(e.stdout, "Password of postmaster@%s (shown only now): %s\n", d, password)
			}
			fmt.Fprintf(e.stdout, "The server runs as user posthorn (server.user); create it with: useradd --system --home-dir %s --shell /usr/sbin/nologin posthorn\n", cfg.DataDir)
			fmt.Fprintf(e.stdout, "Start the server with: posthorn serve -c %s\n", path)
			return nil
		},
	}
	cmd.Flags().StringVar(&hostname, "hostname", "", "fully qualified host name of this server (required)")
	cmd.Flags().StringVar(&domain, "domain", "", "first mail domain (required)")
	cmd.Flags().StringVar(&dataDir, "data", "/var/lib/posthorn", "data directory")
	return cmd
}
