package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/app"
	"posthorn/internal/config"
	"posthorn/internal/gdpr"
)

// gdprCmd is `posthorn gdpr`: export and erasure of what the server holds about a person.
func (e *env) gdprCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "gdpr", Short: "Export or erase everything the server holds about one person (the server may run)"}
	export := &cobra.Command{
		Use:   "export ADDRESS FILE",
		Short: "Write everything held about ADDRESS to FILE, a zip with index.json, one JSON file per part and an mbox per mailbox",
		Long: `Write everything the server holds about ADDRESS (an account, a subscriber, or a correspondent
in the mail log) to the zip file FILE: index.json lists every part with its count. FILE must not
exist; FILE.partial is written first and renamed once complete.`,
		Args: exactArgs(2, "ADDRESS FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withGDPR(cmd.Context(), func(svc *gdpr.Service, _ config.Config) error {
				idx, err := exportFile(cmd.Context(), svc, args[0], args[1])
				if err != nil {
					return err
				}
				var items int64
				for _, p := range idx.Parts {
					items += p.Count
				}
				_, err = fmt.Fprintf(e.stdout, "exported %s to %s: %d files, %d items\n", idx.Address, args[1], len(idx.Parts)+1, items)
				return err
			})
		},
	}
	var dryRun bool
	erase := &cobra.Command{
		Use:   "erase ADDRESS [--dry-run]",
		Short: "Remove everything held about ADDRESS; the mail log and audit log keep a keyed hash in its place",
		Long: `Remove everything the server holds about ADDRESS: the account with its mailboxes, the subscriber
with its subscriptions and tracking events, logins, sessions, queue entries from or to it, suppressions
and the rest; the mail log and the audit log keep their entries with a keyed hash of the address in
its place. The erasure is recorded in the audit log under that hash. The database is then compacted
so that the freed space holds nothing of it. With --dry-run, list what would go and change nothing.`,
		Args: exactArgs(1, "ADDRESS"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withGDPR(cmd.Context(), func(svc *gdpr.Service, cfg config.Config) error {
				out, err := svc.Erase(cmd.Context(), args[0], dryRun)
				if err != nil {
					return err
				}
				return e.printErasure(out, cfg)
			})
		},
	}
	erase.Flags().BoolVar(&dryRun, "dry-run", false, "list what would be erased, change nothing")
	cmd.AddCommand(export, erase)
	return cmd
}

// withGDPR runs fn with the GDPR service on the data directory of the configuration.
func (e *env) withGDPR(ctx context.Context, fn func(svc *gdpr.Service, cfg config.Config) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return withData(ctx, cfg, func(d *app.Data) error {
		ops := &admin.Admin{Store: d.Store, Credentials: d.Credentials, Blobs: d.Blobs}
		return fn(&gdpr.Service{Store: d.Store, Bodies: d.Blobs, Accounts: ops}, cfg)
	})
}

// exportFile writes the export to file through file.partial, refusing to replace a file.
func exportFile(ctx context.Context, svc *gdpr.Service, address, file string) (gdpr.Index, error) {
	if _, err := os.Lstat(file); err == nil {
		return gdpr.Index{}, fmt.Errorf("export file %s exists already: choose another name", file)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return gdpr.Index{}, fmt.Errorf("export file: %w", err)
	}
	partial := file + ".partial"
	f, err := os.OpenFile(partial, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return gdpr.Index{}, fmt.Errorf("export file: %w", err)
	}
	idx, err := svc.Export(ctx, address, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(partial, file)
	}
	if err != nil {
		return idx, errors.Join(err, os.Remove(partial))
	}
	return idx, nil
}

// printErasure writes what an erasure removed (or would), part by part.
func (e *env) printErasure(out gdpr.Erasure, cfg config.Config) error {
	verb := "erased"
	if out.DryRun {
		verb = "would erase"
	}
	fmt.Fprintf(e.stdout, "%s %s:\n", verb, out.Address)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, c := range out.Parts {
		if c.Count > 0 {
			fmt.Fprintf(tw, "  %s\t%d\n", c.Part, c.Count)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.DryRun {
		_, err := fmt.Fprintln(e.stdout, "dry run: nothing changed")
		return err
	}
	fmt.Fprintf(e.stdout, "pseudonym in the mail log and audit log: %s (audit entry %d)\n", out.Pseudonym, out.AuditID)
	backups := filepath.Join(cfg.DataDir, "backups")
	if entries, err := os.ReadDir(backups); err == nil && len(entries) > 0 {
		fmt.Fprintf(e.stderr, "note: %d database copies in %s were taken before and still hold what they held\n", len(entries), backups)
	}
	if cfg.Log.MailLog != "" {
		fmt.Fprintf(e.stderr, "note: the mail log file %s keeps its lines; it is rotated as the operator set it up\n", cfg.Log.MailLog)
	}
	return nil
}
