package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/store"
)

// queueCmd is `posthorn queue`: the outbound queue, one line per recipient (see internal/admin
// for how a running server notices the changes).
func (e *env) queueCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "queue", Short: "Inspect and manage the outbound queue"}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List queued recipients: id, state, attempts, age, next attempt, sender, recipient, last error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				rows, err := a.ListQueue(cmd.Context())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tSTATE\tATTEMPTS\tAGE\tNEXT\tFROM\tTO\tLAST ERROR")
				now := time.Now()
				for _, q := range rows {
					next := "-"
					if !q.Held {
						next = roundDuration(q.NextAttempt.Sub(now))
					}
					fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t<%s>\t<%s>\t%s\n", q.ID, q.State(), q.Attempts,
						roundDuration(now.Sub(q.QueuedAt)), next, q.Sender, q.Recipient, q.LastError)
				}
				if err := tw.Flush(); err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%d queued\n", len(rows))
				return err
			})
		},
	}, &cobra.Command{
		Use:   "show ID",
		Short: "Show everything about one queued recipient",
		Args:  exactArgs(1, "one queue id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.queueByID(cmd.Context(), args[0], func(a *admin.Admin, id int64) error {
				q, err := a.GetQueued(cmd.Context(), id)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 1, ' ', 0)
				for _, f := range [][2]string{
					{"id", strconv.FormatInt(q.ID, 10)},
					{"state", string(q.State())},
					{"from", "<" + q.Sender + ">"},
					{"to", "<" + q.Recipient + ">"},
					{"priority", priorityName(q.Priority)},
					{"message", q.BlobID},
					{"size", strconv.FormatInt(q.Size, 10)},
					{"queued", q.QueuedAt.UTC().Format(time.RFC3339)},
					{"next attempt", q.NextAttempt.UTC().Format(time.RFC3339)},
					{"attempts", strconv.Itoa(q.Attempts)},
					{"last error", q.LastError},
					{"delay notified", strconv.FormatBool(q.DelayNotified)},
					{"requiretls", strconv.FormatBool(q.RequireTLS)},
					{"ret", q.Ret},
					{"envid", q.EnvID},
					{"notify", q.Notify},
					{"orcpt", q.ORcpt},
				} {
					fmt.Fprintf(tw, "%s:\t%s\n", f[0], f[1])
				}
				return tw.Flush()
			})
		},
	}, e.queueRetryCmd(),
		e.queueAction("hold", "Hold a queued recipient: it is not attempted until released", "held",
			func(ctx context.Context, a *admin.Admin, id int64) error { return a.HoldQueued(ctx, id, true) }),
		e.queueAction("release", "Release a held recipient", "released",
			func(ctx context.Context, a *admin.Admin, id int64) error { return a.HoldQueued(ctx, id, false) }),
		&cobra.Command{
			Use:   "delete ID",
			Short: "Delete a queued recipient without delivering it or notifying the sender",
			Args:  exactArgs(1, "one queue id"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return e.queueByID(cmd.Context(), args[0], func(a *admin.Admin, id int64) error {
					if err := a.DeleteQueued(cmd.Context(), id); err != nil {
						return err
					}
					_, err := fmt.Fprintf(e.stdout, "deleted %d\n", id)
					return err
				})
			},
		})
	return cmd
}

// queueRetryCmd is `queue retry ID` and `queue retry --all` (every row not held, as
// Postfix's postqueue -f).
func (e *env) queueRetryCmd() *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "retry ID|--all",
		Short: "Make a queued recipient due now (releasing it if held), or with --all every one not held",
		RunE: func(cmd *cobra.Command, args []string) error {
			if all {
				if len(args) != 0 {
					return errors.New("queue retry: give an id or --all, not both")
				}
				return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
					n, err := a.RetryAllQueued(cmd.Context())
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(e.stdout, "queued %d for retry\n", n)
					return err
				})
			}
			if len(args) != 1 {
				return errors.New("queue retry: want one queue id, or --all")
			}
			return e.queueByID(cmd.Context(), args[0], func(a *admin.Admin, id int64) error {
				if err := a.RetryQueued(cmd.Context(), id); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "queued for retry %d\n", id)
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "every queued recipient that is not held")
	return cmd
}

// queueAction is a command that changes one row by id and says so.
func (e *env) queueAction(name, short, done string, fn func(context.Context, *admin.Admin, int64) error) *cobra.Command {
	return &cobra.Command{
		Use:   name + " ID",
		Short: short,
		Args:  exactArgs(1, "one queue id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.queueByID(cmd.Context(), args[0], func(a *admin.Admin, id int64) error {
				if err := fn(cmd.Context(), a, id); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "%s %d\n", done, id)
				return err
			})
		},
	}
}

// queueByID parses a queue id and runs fn with it.
func (e *env) queueByID(ctx context.Context, arg string, fn func(*admin.Admin, int64) error) error {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return fmt.Errorf("queue id %q: want a positive number, as shown by posthorn queue list", arg)
	}
	return e.withAdmin(ctx, func(a *admin.Admin) error { return fn(a, id) })
}

func priorityName(p store.Priority) string {
	if p == store.PriorityBulk {
		return "bulk"
	}
	return "normal"
}

// roundDuration shows a duration to the second, or to the minute above an hour.
func roundDuration(d time.Duration) string {
	if d < 0 {
		return "now"
	}
	if d >= time.Hour {
		return d.Round(time.Minute).String()
	}
	return d.Round(time.Second).String()
}
