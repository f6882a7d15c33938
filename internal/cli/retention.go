package cli

import (
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"posthorn/internal/app"
	"posthorn/internal/retention"
)

// retentionCmd: "retention run [--dry-run]" applies the [retention] rules now, as the
// server's daily job does (internal/retention), and prints what went; --dry-run prints what
// would go and removes nothing.
func (e *env) retentionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "retention", Short: "Apply the retention rules of [retention]"}
	var dryRun bool
	run := &cobra.Command{
		Use:   "run",
		Short: "Remove now what the retention rules say has been kept long enough (--dry-run: only show it)",
		Long: "Remove now the messages, mail log events, tracking events and login history older than the\n" +
			"periods of [retention], as the server's daily job does, and print what went; accounts under\n" +
			"legal hold (posthorn user hold) keep everything. The run is recorded in the audit log.\n" +
			"The server's own daily run tells IMAP sessions at once (EXPUNGE); the sessions a running server\n" +
			"has open while this command runs learn of its removals when they next select the mailbox.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			return withData(cmd.Context(), cfg, func(d *app.Data) error {
				logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
				svc, err := app.NewRetention(cfg, d, logger, nil)
				if err != nil {
					return err
				}
				rep, err := svc.Run(cmd.Context(), dryRun)
				e.printRetention(rep)
				return err
			})
		},
	}
	run.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be removed, remove nothing")
	cmd.AddCommand(run)
	return cmd
}

func (e *env) printRetention(rep retention.Report) {
	verb := "removed"
	if rep.DryRun {
		verb = "would remove"
	}
	for _, mb := range rep.Mailboxes {
		fmt.Fprintf(e.stdout, "%s %s: %s %d messages older than %d days\n", mb.Account, mb.Mailbox, verb, mb.Messages, mb.Days)
	}
	fmt.Fprintf(e.stdout, "%s %d messages, %d mail log events, %d tracking events, %d login sources, %d web logins\n",
		verb, rep.Messages, rep.MailEvents, rep.TrackingEvents, rep.LoginSources, rep.WebLogins)
	if rep.HeldAccounts > 0 {
		fmt.Fprintf(e.stdout, "skipped %d accounts under legal hold\n", rep.HeldAccounts)
	}
}
