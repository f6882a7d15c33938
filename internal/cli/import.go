package cli

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"posthorn/internal/app"
	"posthorn/internal/delivery"
	"posthorn/internal/importer"
)

// importCmd: posthorn import mbox|maildir|imap, into one account (internal/importer).
func (e *env) importCmd() *cobra.Command {
	var account, mailbox string
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Copy mail from an mbox file, a Maildir or another IMAP server into an account",
		Long: `Copy mail into an account, with flags and internal dates, the server running or not. A second run
copies nothing that is there already, and a run after an interrupted one goes on where it
stopped. A summary ends the run: copied, skipped (already there), refused and why.`,
	}
	cmd.PersistentFlags().StringVar(&account, "account", "", "the account to import into (required)")
	cmd.PersistentFlags().StringVar(&mailbox, "mailbox", "", "the mailbox to import into (default: INBOX, and the source's folder names); the source's folders go below it")
	run := func(cmd *cobra.Command, src importer.Source) error {
		if account == "" {
			return fmt.Errorf("%s: --account is required", cmd.CommandPath())
		}
		cfg, err := e.config()
		if err != nil {
			return err
		}
		return withData(cmd.Context(), cfg, func(d *app.Data) error {
			st, ok := d.Store.(importer.Store)
			if !ok {
				return fmt.Errorf("import: the store %T has no import ledger", d.Store)
			}
			logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			committer := delivery.New(d.Store, d.Blobs.Bodies(), logger)
			defer committer.Close()
			bar := e.importProgress()
			im := &importer.Importer{Store: st, Committer: committer, Logger: logger, TempDir: cfg.DataDir,
				DefaultQuota:   cfg.Limits.DefaultQuotaMiB << 20,
				MaxMessageSize: int64(cfg.SMTP.MaxMessageSizeMiB) << 20, Progress: bar.report}
			sum, err := im.Import(cmd.Context(), src, account, mailbox)
			bar.finish()
			fmt.Fprintf(e.stdout, "import into %s: %s\n", account, sum)
			return err
		})
	}
	mbox := &cobra.Command{
		Use:   "mbox PATH",
		Short: "Import an mbox file (mboxrd or mboxo) into INBOX or --mailbox",
		Args:  exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, importer.Mbox{Path: args[0]})
		},
	}
	maildir := &cobra.Command{
		Use:   "maildir PATH",
		Short: "Import a Maildir++ tree: INBOX and its .Folder.Sub folders, flags from the file names",
		Args:  exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, importer.Maildir{Path: args[0]})
		},
	}
	cmd.AddCommand(mbox, maildir, e.importIMAPCmd(run))
	return cmd
}

func (e *env) importIMAPCmd(run func(*cobra.Command, importer.Source) error) *cobra.Command {
	var host, user string
	var passwordStdin, implicitTLS, startTLS, plain bool
	cmd := &cobra.Command{
		Use:   "imap --host H[:PORT] --user U --password-stdin",
		Short: "Import every folder of another IMAP server, with flags and internal dates",
		Long: `Import every folder of another IMAP server (LIST), with flags and internal dates; folders with a
special use (\Sent, \Drafts, \Junk, \Trash, \Archive) go to the account's mailbox of that use.
The connection is implicit TLS (--tls, port 993, the default), STARTTLS (--starttls, port 143),
or plain text to a loopback address only (--plain-insecure-loopback, port 143). The password is
the first line of standard input.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if host == "" || user == "" || !passwordStdin {
				return fmt.Errorf("%s: --host, --user and --password-stdin are required", cmd.CommandPath())
			}
			security := importer.ImplicitTLS
			switch {
			case btoi(implicitTLS)+btoi(startTLS)+btoi(plain) > 1:
				return fmt.Errorf("%s: one of --tls, --starttls and --plain-insecure-loopback", cmd.CommandPath())
			case startTLS:
				security = importer.StartTLS
			case plain:
				security = importer.PlainLoopback
			}
			password, err := bufio.NewReader(e.stdin).ReadString('\n')
			if err != nil && err != io.EOF {
				return fmt.Errorf("read password: %w", err)
			}
			return run(cmd, &importer.IMAP{Addr: host, User: user,
				Password: strings.TrimRight(password, "\r\n"), Security: security})
		},
	}
	cmd.Flags().StringVar(&host, "host", "", "the server, host[:port]")
	cmd.Flags().StringVar(&user, "user", "", "the user name to log in with")
	cmd.Flags().BoolVar(&passwordStdin, "password-stdin", false, "read the password from standard input")
	cmd.Flags().BoolVar(&implicitTLS, "tls", false, "implicit TLS (the default)")
	cmd.Flags().BoolVar(&startTLS, "starttls", false, "STARTTLS")
	cmd.Flags().BoolVar(&plain, "plain-insecure-loopback", false, "no TLS, to a loopback address only")
	return cmd
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// importProgress is a bar of messages on standard error when it is a terminal.
func (e *env) importProgress() *progressBar {
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return &progressBar{}
	}
	return &progressBar{bar: progressbar.NewOptions64(-1, progressbar.OptionSetWriter(io.Writer(f)),
		progressbar.OptionSetDescription("import"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())}
}
