package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"posthorn/internal/address"
	"posthorn/internal/app"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

// errNoSubmissionStore is returned when the store keeps no app passwords or sending settings.
var errNoSubmissionStore = errors.New("this store keeps no app passwords, send-as or DKIM keys")

// sendingAccount returns the account named by arg and the store of its sending settings.
func sendingAccount(ctx context.Context, d *app.Data, arg string) (store.SubmissionStore, store.Account, error) {
	addr, err := address.Parse(arg)
	if err != nil {
		return nil, store.Account{}, err
	}
	ss, ok := d.Store.(store.SubmissionStore)
	if !ok {
		return nil, store.Account{}, errNoSubmissionStore
	}
	acc, err := d.Store.GetAccount(ctx, addr.String())
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Account{}, fmt.Errorf("unknown user %s", addr)
	}
	return ss, acc, err
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
			return e.withData(cmd.Context(), func(d *app.Data) error {
				if _, _, err := sendingAccount(cmd.Context(), d, args[0]); err != nil {
					return err
				}
				addr, _ := address.Parse(args[0])
				password, err := credentials.AddAppPassword(cmd.Context(), d.Credentials, addr.String(), args[1])
				if errors.Is(err, store.ErrExists) {
					return fmt.Errorf("%s already has an app password called %q", addr, args[1])
				} else if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "app password %q of %s (shown only now): %s\n", args[1], addr, password)
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list ADDRESS",
		Short: "List an account's app passwords by name",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withData(cmd.Context(), func(d *app.Data) error {
				ss, acc, err := sendingAccount(cmd.Context(), d, args[0])
				if err != nil {
					return err
				}
				list, err := ss.ListAppPasswords(cmd.Context(), acc.ID)
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
			return e.withData(cmd.Context(), func(d *app.Data) error {
				ss, acc, err := sendingAccount(cmd.Context(), d, args[0])
				if err != nil {
					return err
				}
				if err := ss.RemoveAppPassword(cmd.Context(), acc.ID, args[1]); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s has no app password called %q", acc.Address, args[1])
				} else if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "removed app password %q of %s\n", args[1], acc.Address)
				return err
			})
		},
	})
	return cmd
}

// parseSendAs reads "local@domain" or "@domain".
func parseSendAs(arg string) (string, error) {
	if len(arg) > 1 && arg[0] == '@' {
		d, err := address.ParseDomain(arg[1:])
		if err != nil {
			return "", fmt.Errorf("send-as %q: %v", arg, err)
		}
		return "@" + d, nil
	}
	a, err := address.Parse(arg)
	if err != nil {
		return "", fmt.Errorf("send-as %q: %v", arg, err)
	}
	return a.String(), nil
}

// sendAsCmd: "user send-as add|list|remove": addresses or whole domains an account may use as
// sender besides its own address and the aliases that lead to it.
func (e *env) sendAsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "send-as", Short: "Manage the addresses an account may send as (local@domain or @domain)"}
	change := func(use, short, done string, fn func(store.SubmissionStore, context.Context, int64, string) error) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Args: exactArgs(2, "an address and a send-as address or @domain"),
			RunE: func(cmd *cobra.Command, args []string) error {
				sendAs, err := parseSendAs(args[1])
				if err != nil {
					return err
				}
				return e.withData(cmd.Context(), func(d *app.Data) error {
					ss, acc, err := sendingAccount(cmd.Context(), d, args[0])
					if err != nil {
						return err
					}
					switch err := fn(ss, cmd.Context(), acc.ID, sendAs); {
					case errors.Is(err, store.ErrExists):
						return fmt.Errorf("%s may already send as %s", acc.Address, sendAs)
					case errors.Is(err, store.ErrNotFound):
						return fmt.Errorf("%s has no send-as %s", acc.Address, sendAs)
					case err != nil:
						return err
					}
					_, err = fmt.Fprintf(e.stdout, "%s %s %s\n", acc.Address, done, sendAs)
					return err
				})
			},
		}
	}
	cmd.AddCommand(
		change("add ADDRESS SENDAS", "Let ADDRESS send as SENDAS (an address, or @domain for all of a domain)", "may now send as",
			store.SubmissionStore.AddSendAs),
		change("remove ADDRESS SENDAS", "Take a send-as away", "may no longer send as", store.SubmissionStore.RemoveSendAs),
		&cobra.Command{
			Use: "list ADDRESS", Short: "List an account's send-as addresses", Args: exactArgs(1, "one address"),
			RunE: func(cmd *cobra.Command, args []string) error {
				return e.withData(cmd.Context(), func(d *app.Data) error {
					ss, acc, err := sendingAccount(cmd.Context(), d, args[0])
					if err != nil {
						return err
					}
					list, err := ss.ListSendAs(cmd.Context(), acc.ID)
					for _, a := range list {
						fmt.Fprintln(e.stdout, a)
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
			return e.withData(cmd.Context(), func(d *app.Data) error {
				ss, acc, err := sendingAccount(cmd.Context(), d, args[0])
				if err != nil {
					return err
				}
				if len(args) == 3 {
					if err := ss.SetSendLimits(cmd.Context(), acc.ID, set); err != nil {
						return err
					}
				}
				l, err := ss.GetSendLimits(cmd.Context(), acc.ID)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "%s: %s recipients per hour, %s per day\n", acc.Address,
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
