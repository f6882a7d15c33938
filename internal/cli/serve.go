package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/app"
	plog "posthorn/internal/log"
)

func (e *env) serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the mail server until SIGTERM or SIGINT",
		Long: `Run the mail server. Without -c it runs the built-in trial configuration: host name and domain
localhost, listeners on 127.0.0.1 with unprivileged ports (SMTP 2525, HTTP 8080), data in
./posthorn-data; on the first start it creates postmaster@localhost and prints its password once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			logger := plog.New(cfg.Log, os.Stderr)
			if e.configPath == "" {
				if err := e.bootstrap(cmd.Context(), cfg.DataDir); err != nil {
					return err
				}
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			srv, _, err := app.Start(ctx, cfg, logger)
			if err != nil {
				return err
			}
			return srv.Wait(ctx)
		},
	}
}

// bootstrap creates the trial domain and account on the first start without a config file.
func (e *env) bootstrap(ctx context.Context, dataDir string) error {
	return e.withAdmin(ctx, func(a *admin.Admin) error {
		password, err := a.Bootstrap(ctx, "localhost")
		if err != nil || password == "" {
			return err
		}
		fmt.Fprintf(e.stdout, "Created domain localhost and account postmaster@localhost in %s.\n", dataDir)
		fmt.Fprintf(e.stdout, "Password of postmaster@localhost (shown only now): %s\n", password)
		return nil
	})
}
