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

	"posthorn/internal/admin"
	"posthorn/internal/operr"
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
			addr, err := operr.ParseAddress("address", args[0])
			if err != nil {
				return err
			}
			password, err := e.newPassword(addStdin)
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				_, err := a.AddAccount(cmd.Context(), addr, password)
				if unknown, ok := operr.As(err, operr.NotFound, "domain"); ok {
					return fmt.Errorf("%w; add it first with: posthorn domain add %s", err, unknown.Value)
				} else if err != nil {
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
			addr, err := operr.ParseAddress("address", args[0])
			if err != nil {
				return err
			}
			password, err := e.newPassword(passwdStdin)
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.SetPassword(cmd.Context(), addr, password); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "changed password of %s\n", addr)
				return err
			})
		},
	}
	passwd.Flags().BoolVar(&passwdStdin, "password-stdin", false, "read the password from the first line of standard input")
	cmd.AddCommand(add, passwd, e.userAdminCmd(), e.userHoldCmd(), e.userShowCmd(), e.userQuotaCmd(), e.appPasswordCmd(), e.sendAsCmd(), e.sendLimitCmd(), &cobra.Command{
		Use:   "list [DOMAIN]",
		Short: "List accounts, of one domain or all",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			domain := ""
			if len(args) == 1 {
				var err error
				if domain, err = admin.ParseDomain("domain", args[0]); err != nil {
					return err
				}
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				accounts, err := a.ListAccounts(cmd.Context(), domain)
				if err != nil {
					return err
				}
				admins, err := a.WebAdmins(cmd.Context())
				if err != nil {
					return err
				}
				holds, err := a.LegalHolds(cmd.Context())
				if err != nil {
					return err
				}
				for _, acc := range accounts {
					var marks []string
					if admins[acc.ID] {
						marks = append(marks, "admin")
					}
					if _, held := holds[acc.ID]; held {
						marks = append(marks, "legal hold")
					}
					if len(marks) > 0 {
						fmt.Fprintf(e.stdout, "%s (%s)\n", acc.Address, strings.Join(marks, ", "))
						continue
					}
					fmt.Fprintln(e.stdout, acc.Address)
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove ADDRESS",
		Short: "Delete an account with all its mailboxes and messages",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := operr.ParseAddress("address", args[0])
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.RemoveAccount(cmd.Context(), addr); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed user %s\n", addr)
				return err
			})
		},
	})
	return cmd
}

// userAdminCmd: "user admin ADDRESS on|off" grants or revokes the admin flag, which opens the
// web UI's admin pages to the account (admin.SetWebAdmin).
func (e *env) userAdminCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "admin ADDRESS on|off",
		Short: "Grant (on) or revoke (off) an account's access to the web UI's admin pages",
		Args:  exactArgs(2, "an address and on or off"),
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := operr.ParseAddress("address", args[0])
			if err != nil {
				return err
			}
			on, err := parseOnOff("admin", args[1])
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.SetWebAdmin(cmd.Context(), addr, on); err != nil {
					return err
				}
				what := "is now an admin"
				if !on {
					what = "is no longer an admin"
				}
				_, err := fmt.Fprintf(e.stdout, "%s %s of the web UI\n", addr, what)
				return err
			})
		},
	}
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
			addr, err := operr.ParseAddress("address", args[0])
			if err != nil {
				return err
			}
			cfg, err := e.config()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return e.withAdmin(ctx, func(a *admin.Admin) error {
				if len(args) == 1 {
					return e.showQuota(ctx, a, addr, cfg.Limits.DefaultQuotaMiB)
				}
				bytes, err := parseQuota(args[1])
				if err != nil {
					return err
				}
				if err := a.SetQuota(ctx, addr, bytes); err != nil {
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

func (e *env) showQuota(ctx context.Context, a *admin.Admin, addr string, defaultMiB int64) error {
	q, err := a.Quota(ctx, addr)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s: quota %s; %.1f MiB used by %d messages\n", addr,
		describeQuota(q.QuotaBytes, defaultMiB), float64(q.UsedBytes)/(1<<20), q.Messages)
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
	if err := admin.CheckPassword(password); err != nil {
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
