package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/audit"
	"posthorn/internal/mailtrace"
	"posthorn/internal/store"
)

// auditCmd is `posthorn audit`: the audit log of administrative actions (package audit).
func (e *env) auditCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Show or export the audit log: every administrative action, who did it and when"}
	cmd.AddCommand(e.auditListCmd(), e.auditExportCmd())
	return cmd
}

// auditFlags are the filter flags of audit list and export.
type auditFlags struct {
	since, until, kind, actor, action, target string
}

func (f *auditFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.since, "since", "", "entries at or after: an RFC 3339 time or a duration before now (24h, 7d)")
	cmd.Flags().StringVar(&f.until, "until", "", "entries before: an RFC 3339 time or a duration before now")
	cmd.Flags().StringVar(&f.kind, "actor-kind", "", "entries through one interface: cli, api, web or system")
	cmd.Flags().StringVar(&f.actor, "actor", "", "entries by one actor, as listed")
	cmd.Flags().StringVar(&f.action, "action", "", `one action ("user.add") or every action on one kind of object ("user.")`)
	cmd.Flags().StringVar(&f.target, "target", "", "entries on one object (a domain, an address, a queue id)")
}

func (f *auditFlags) filter(now time.Time) (store.AuditFilter, error) {
	out := store.AuditFilter{ActorKind: f.kind, Actor: f.actor, Action: f.action, Target: f.target}
	if f.kind != "" {
		if err := audit.CheckKind("--actor-kind", f.kind); err != nil {
			return out, err
		}
	}
	var err error
	if f.since != "" {
		if out.Since, err = mailtrace.ParseTime("since", f.since, now); err != nil {
			return out, err
		}
	}
	if f.until != "" {
		if out.Until, err = mailtrace.ParseTime("until", f.until, now); err != nil {
			return out, err
		}
	}
	return out, nil
}

// auditListCmd is `audit list`: one line per entry, oldest first.
func (e *env) auditListCmd() *cobra.Command {
	var flags auditFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "list [--since T] [--until T] [--actor-kind K] [--actor A] [--action A] [--target T] [--limit N]",
		Short: "List audit log entries, oldest first",
		Args:  exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := flags.filter(time.Now())
			if err != nil {
				return err
			}
			if limit < 0 {
				return fmt.Errorf("--limit %d: want 0 (all) or more", limit)
			}
			f.Limit = limit
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				log, err := a.Audit()
				if err != nil {
					return err
				}
				entries, err := log.List(cmd.Context(), f)
				if err != nil {
					return err
				}
				return writeAudit(e.stdout, entries)
			})
		},
	}
	flags.add(cmd)
	cmd.Flags().IntVar(&limit, "limit", 0, "the most entries shown (0: all)")
	return cmd
}

func writeAudit(w io.Writer, entries []store.AuditEntry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tACTOR\tACTION\tTARGET\tDETAILS")
	for _, en := range entries {
		fmt.Fprintf(tw, "%d\t%s\t%s:%s\t%s\t%s\t%s\n", en.ID, en.Time.UTC().Format(time.RFC3339), en.ActorKind, en.Actor,
			en.Action, en.Target, en.Details)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d entries\n", len(entries))
	return err
}

// auditExportCmd is `audit export FILE`: the entries as JSON lines, to a file or "-".
func (e *env) auditExportCmd() *cobra.Command {
	var flags auditFlags
	cmd := &cobra.Command{
		Use:   "export FILE|- [--since T] [--until T] [--actor-kind K] [--actor A] [--action A] [--target T]",
		Short: "Write audit log entries as JSON lines (one object per entry) to FILE, or standard output for -",
		Args:  exactArgs(1, "the file to write, or - for standard output"),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := flags.filter(time.Now())
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				log, err := a.Audit()
				if err != nil {
					return err
				}
				if args[0] == "-" {
					_, err := log.Export(cmd.Context(), e.stdout, f)
					return err
				}
				out, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
				if err != nil {
					return fmt.Errorf("export audit log: %w", err)
				}
				n, err := log.Export(cmd.Context(), out, f)
				if cerr := out.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					os.Remove(args[0])
					return err
				}
				_, err = fmt.Fprintln(e.stderr, "exported "+strconv.Itoa(n)+" entries to "+args[0])
				return err
			})
		},
	}
	flags.add(cmd)
	return cmd
}
