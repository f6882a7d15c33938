package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"posthorn/internal/address"
	"posthorn/internal/app"
	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

func (e *env) userCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "user", Short: "Manage accounts"}
	var addStdin, passwdStdin bool
	add := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Create an account with the default mailboxes (asks for the password)",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := address.Parse(args[0])
			if err != nil {
				return err
			}
			password, err := e.newPassword(addStdin)
			if err != nil {
				return err
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				_, err := credentials.AddAccount(cmd.Context(), d.Credentials, addr.String(), password)
				switch {
				case errors.Is(err, store.ErrUnknownDomain):
					return fmt.Errorf("unknown domain %s; add it first with: posthorn domain add %s", addr.Domain, addr.Domain)
				case errors.Is(err, store.ErrExists):
					return fmt.Errorf("%s already exists (as an account or alias)", addr)
				case err != nil:
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "added user %s\n", addr)
				return err
			})
		},
	}
	add.Flags().BoolVar(&addStdin, "password-stdin", false, "read the password from the first line of standard input")
	passwd := &cobra.Command{
		Use:   "passwd ADDRESS",
		Short: "Set an account's password (asks for it)",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := address.Parse(args[0])
			if err != nil {
				return err
			}
			password, err := e.newPassword(passwdStdin)
			if err != nil {
				return err
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				if err := credentials.SetPassword(cmd.Context(), d.Credentials, addr.String(), password); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("unknown user %s", addr)
				} else if err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "changed password of %s\n", addr)
				return err
			})
		},
	}
	passwd.Flags().BoolVar(&passwdStdin, "password-stdin", false, "read the password from the first line of standard input")
	cmd.AddCommand(add, passwd, e.userQuotaCmd(), e.appPasswordCmd(), e.sendAsCmd(), e.sendLimitCmd(), &cobra.Command{
		Use:   "list [DOMAIN]",
		Short: "List accounts, of one domain or all",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			domain := ""
			if len(args) == 1 {
				var err error
				if domain, err = address.ParseDomain(args[0]); err != nil {
					return fmt.Errorf("domain %q: %v", args[0], err)
				}
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				accounts, err := d.Store.ListAccounts(cmd.Context(), domain)
				if err != nil {
					return err
				}
				for _, a := range accounts {
					fmt.Fprintln(e.stdout, a.Address)
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove ADDRESS",
		Short: "Delete an account with all its mailboxes and messages",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := address.Parse(args[0])
			if err != nil {
				return err
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				if err := app.RemoveAccount(cmd.Context(), d, addr.String()); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("unknown user %s", addr)
				} else if err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed user %s\n", addr)
				return err
			})
		},
	})
	return cmd
}

// userQuotaCmd: "user quota ADDRESS" shows an account's storage quota and usage; "user quota
// ADDRESS MIB" sets the quota (0: none), "user quota ADDRESS default" makes it follow the
// configuration's limits.default_quota_mib again (RFC 9208 STORAGE; see config.Limits).
func (e *env) userQuotaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "quota ADDRESS [MIB|default]",
		Short: "Show an account's storage quota and usage, or set the quota in MiB (0: none)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("%s: want an address and, to set it, a quota in MiB or \"default\"", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := address.Parse(args[0])
			if err != nil {
				return err
			}
			cfg, err := e.config()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return e.withData(ctx, func(d *app.Data) error {
				if len(args) == 1 {
					return e.showQuota(ctx, d, addr.String(), cfg.Limits.DefaultQuotaMiB)
				}
				bytes, err := parseQuota(args[1])
				if err != nil {
					return err
				}
				if err := d.Store.SetQuota(ctx, addr.String(), bytes); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("unknown user %s", addr)
				} else if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "set the quota of %s to %s\n", addr,
					describeQuota(bytes, cfg.Limits.DefaultQuotaMiB))
				return err
			})
		},
	}
}

// parseQuota reads a quota given in MiB, or "default", as octets (store.QuotaDefault).
func parseQuota(arg string) (int64, error) {
	if arg == "default" {
		return store.QuotaDefault, nil
	}
	mib, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || mib < 0 || mib > 1<<40 {
		return 0, fmt.Errorf("quota %q: want a size in MiB, 0 for none, or \"default\"", arg)
	}
	return mib << 20, nil
}

// describeQuota says what an account's QuotaBytes means, defaultMiB being the configuration's.
func describeQuota(bytes, defaultMiB int64) string {
	switch {
	case bytes == store.QuotaDefault && defaultMiB == 0:
		return "the default: none"
	case bytes == store.QuotaDefault:
		return fmt.Sprintf("the default: %d MiB", defaultMiB)
	case bytes == 0:
		return "none"
	}
	if bytes%(1<<20) != 0 {
		return fmt.Sprintf("%d octets", bytes)
	}
	return fmt.Sprintf("%d MiB", bytes>>20)
}

func (e *env) showQuota(ctx context.Context, d *app.Data, addr string, defaultMiB int64) error {
	acc, err := d.Store.GetAccount(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("unknown user %s", addr)
	} else if err != nil {
		return err
	}
	used, messages, err := d.Store.AccountUsage(ctx, acc.ID)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s: quota %s; %.1f MiB used by %d messages\n", addr,
		describeQuota(acc.QuotaBytes, defaultMiB), float64(used)/(1<<20), messages)
	return err
}

// newPassword reads a new password (a line of stdin, or twice from the terminal without
// echo) and checks it.
func (e *env) newPassword(fromStdin bool) (string, error) {
	var password string
	if fromStdin {
		line, err := bufio.NewReader(e.stdin).ReadString('\n')
		if err != nil && line == "" {
			return "", errors.New("--password-stdin: no password on standard input")
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		f, ok := e.stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return "", errors.New("standard input is not a terminal; use --password-stdin")
		}
		first, err := e.prompt(f, "Password: ")
		if err != nil {
			return "", err
		}
		second, err := e.prompt(f, "Repeat password: ")
		if err != nil {
			return "", err
		}
		if first != second {
			return "", errors.New("the passwords do not match")
		}
		password = first
	}
	if err := auth.CheckNewPassword(password); err != nil {
		return "", err
	}
	return password, nil
}

func (e *env) prompt(f *os.File, label string) (string, error) {
	fmt.Fprint(e.stderr, label)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(e.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}
