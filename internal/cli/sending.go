package cli

import (
	"context"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// normalised is an address as the operations of internal/admin key it, for the commands that
// name an account after it was changed.
func normalised(addr string) string {
	if a, err := operr.ParseAddress("address", addr); err == nil {
		return a
	}
	return addr
}

// appPasswordCmd: "user app-password add|list|remove": generated passwords for mail clients,
// usable wherever the account's password is (IMAP, POP3, submission, every SASL mechanism).
func (e *env) appPasswordCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "app-password", Short: "Manage an account's app passwords (one per device or program)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "add ADDRESS NAME",
		Short: "Generate an app password called NAME and print it (shown only once)",
		Args:  exactArgs(2, "an address and a name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				password, err := a.AddAppPassword(cmd.Context(), args[0], args[1])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "app password %q of %s (shown only now): %s\n", args[1], normalised(args[0]), password)
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list ADDRESS",
		Short: "List an account's app passwords by name",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				list, err := a.AppPasswords(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				for _, p := range list {
					fmt.Fprintf(e.stdout, "%s\tcreated %s\n", p.Name, p.CreatedAt.UTC().Format("2006-01-02 15:04"))
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove ADDRESS NAME",
		Short: "Delete an app password: it stops working at once",
		Args:  exactArgs(2, "an address and a name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.RemoveAppPassword(cmd.Context(), args[0], args[1]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed app password %q of %s\n", args[1], normalised(args[0]))
				return err
			})
		},
	})
	return cmd
}

// sendAsCmd: "user send-as add|list|remove": addresses or whole domains an account may use as
// sender besides its own address and the aliases that lead to it.
func (e *env) sendAsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "send-as", Short: "Manage the addresses an account may send as (local@domain or @domain)"}
	change := func(use, short, done string, fn func(*admin.Admin, context.Context, string, string) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: exactArgs(2, "an address and a send-as address or @domain"),
			RunE: func(cmd *cobra.Command, args []string) error {
				sendAs, err := admin.ParseSendAs(args[1])
				if err != nil {
					return err
				}
				return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
					if err := fn(a, cmd.Context(), args[0], sendAs); err != nil {
						return err
					}
					_, err := fmt.Fprintf(e.stdout, "%s %s %s\n", normalised(args[0]), done, sendAs)
					return err
				})
			},
		}
	}
	cmd.AddCommand(
		change("add ADDRESS SENDAS", "Let ADDRESS send as SENDAS (an address, or @domain for all of a domain)", "may now send as",
			(*admin.Admin).AddSendAs),
		change("remove ADDRESS SENDAS", "Take a send-as away", "may no longer send as", (*admin.Admin).RemoveSendAs),
		&cobra.Command{
			Use: "list ADDRESS", Short: "List an account's send-as addresses", Args: exactArgs(1, "one address"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
					list, err := a.SendAs(cmd.Context(), args[0])
					for _, s := range list {
						fmt.Fprintln(e.stdout, s)
					}
					return err
				})
			},
		})
	return cmd
}

// sendLimitCmd: "user send-limit ADDRESS [PER_HOUR PER_DAY]" shows or sets an account's
// sending limits in recipients (0: none, "default": the configuration's limits.send_per_*).
func (e *env) sendLimitCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "send-limit ADDRESS [PER_HOUR PER_DAY]",
		Short: "Show an account's sending limits, or set them in recipients per hour and per day (0: none, default)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 && len(args) != 3 {
				return fmt.Errorf("%s: want an address and, to set them, two limits", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := e.config()
			if err != nil {
				return err
			}
			var set store.SendLimits
			if len(args) == 3 {
				if set.PerHour, err = parseLimit(args[1]); err != nil {
					return err
				}
				if set.PerDay, err = parseLimit(args[2]); err != nil {
					return err
				}
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if len(args) == 3 {
					if err := a.SetSendLimits(cmd.Context(), args[0], set); err != nil {
						return err
					}
				}
				l, err := a.SendLimits(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%s: %s recipients per hour, %s per day\n", normalised(args[0]),
					describeLimit(l.PerHour, cfg.Limits.SendPerHour), describeLimit(l.PerDay, cfg.Limits.SendPerDay))
				return err
			})
		},
	}
}

func parseLimit(arg string) (int64, error) {
	if arg == "default" {
		return store.LimitDefault, nil
	}
	n, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("limit %q: want a number of recipients, 0 for none, or \"default\"", arg)
	}
	return n, nil
}

func describeLimit(n, def int64) string {
	switch {
	case n == store.LimitDefault && def == 0:
		return "no limit (default)"
	case n == store.LimitDefault:
		return fmt.Sprintf("%d (default)", def)
	case n == 0:
		return "no limit"
	}
	return strconv.FormatInt(n, 10)
}
