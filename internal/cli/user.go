package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"posthorn/internal/address"
	"posthorn/internal/app"
	"posthorn/internal/auth"
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
			hash, err := e.newPasswordHash(addStdin)
			if err != nil {
				return err
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				_, err := d.Store.AddAccount(cmd.Context(), addr.String(), hash)
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
			hash, err := e.newPasswordHash(passwdStdin)
			if err != nil {
				return err
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				if err := d.Store.SetPassword(cmd.Context(), addr.String(), hash); errors.Is(err, store.ErrNotFound) {
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
	cmd.AddCommand(add, passwd, &cobra.Command{
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

// newPasswordHash reads a new password (a line of stdin, or twice from the terminal without
// echo), checks it and hashes it.
func (e *env) newPasswordHash(fromStdin bool) (string, error) {
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
	return auth.HashPassword(password)
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
