// Package cli is posthorn's command line (cobra): serve, init, config, domain, user, alias, queue,
// spam, check, token (the JSON API's), trace (the message trace), backup (create, verify), restore, version, audit (the audit log), import (mbox, maildir, imap), retention (run the retention rules now), gdpr (export, erase), and bulk mail (list, subscriber, suppression, template,
// campaign). Admin commands open the data directory of the configuration directly, so they
// work whether the server runs or not, and run the operations of internal/admin (internal/campaign for bulk mail) on it: the
// commands parse their arguments and print the results, nothing more. Every error is one line
// on standard error and exit status 1.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/app"
	"posthorn/internal/audit"
	"posthorn/internal/config"
)

// env is what every command needs: the streams and the global flags.
type env struct {
	stdin      io.Reader
	stdout     io.Writer
	stderr     io.Writer
	configPath string
}

// Main runs the command line with args and returns the process exit status.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "posthorn",
		Short:         "posthorn is a complete mail server in one binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		// Every command but serve acts as the operating system user who ran it, for the
		// audit log; the server's own actions are the system's.
		PersistentPreRun: func(cmd *cobra.Command, _ []string) {
			if cmd.Name() != "serve" {
				cmd.SetContext(audit.WithActor(cmd.Context(), cliActor()))
			}
		},
	}
	root.PersistentFlags().StringVarP(&e.configPath, "config", "c", "", "configuration file (default: built-in defaults, data in ./posthorn-data)")
	root.AddCommand(e.serveCmd(), e.initCmd(), e.configCmd(), e.domainCmd(), e.userCmd(), e.aliasCmd(), e.queueCmd(), e.spamCmd(), e.checkCmd(),
		e.listCmd(), e.subscriberCmd(), e.suppressionCmd(), e.templateCmd(), e.campaignCmd(), e.tokenCmd(), e.traceCmd(),
		e.backupCmd(), e.restoreCmd(), e.versionCmd(), e.auditCmd(), e.importCmd(), e.retentionCmd(), e.gdprCmd())
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintf(stderr, "posthorn: %v\n", err)
		return 1
	}
	return 0
}

// cliActor is who runs the command line: the operating system user's name (or uid).
func cliActor() audit.Actor {
	name := strconv.Itoa(os.Getuid())
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	return audit.Actor{Kind: audit.KindCLI, Name: name}
}

// config loads the configuration of -c, or the defaults without it.
func (e *env) config() (config.Config, error) {
	if e.configPath == "" {
		c := config.Default()
		return c, c.Validate()
	}
	return config.Load(e.configPath)
}

// withAdmin runs fn with the operations on the data directory of the configuration.
func (e *env) withAdmin(ctx context.Context, fn func(a *admin.Admin) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return withData(ctx, cfg, func(d *app.Data) error {
		return fn(&admin.Admin{Store: d.Store, Credentials: d.Credentials, Blobs: d.Blobs})
	})
}

// withData runs fn with the data directory of cfg open, and closes it.
func withData(ctx context.Context, cfg config.Config, fn func(d *app.Data) error) error {
	d, err := app.OpenData(ctx, cfg)
	if err != nil {
		return err
	}
	ferr := fn(d)
	if cerr := d.Close(); ferr == nil && cerr != nil {
		return cerr
	}
	return ferr
}

// exactArgs is cobra.ExactArgs with a message that names what is missing.
func exactArgs(n int, usage string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s: want %s", cmd.CommandPath(), usage)
		}
		return nil
	}
}
