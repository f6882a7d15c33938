package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/address"
	"posthorn/internal/app"
	"posthorn/internal/store"
)

func (e *env) aliasCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "alias", Short: "Manage aliases (ADDRESS or @domain for a catch-all)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "add ADDRESS TARGET...",
		Short: "Deliver mail for ADDRESS (or every unknown address of @domain) to local addresses",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return errors.New("alias add: want ADDRESS and at least one TARGET")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			alias, err := parseAliasAddress(args[0])
			if err != nil {
				return err
			}
			var targets []string
			for _, t := range args[1:] {
				a, err := address.Parse(t)
				if err != nil {
					return fmt.Errorf("target: %w", err)
				}
				targets = append(targets, a.String())
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				_, err := d.Store.AddAlias(cmd.Context(), alias, targets)
				switch {
				case errors.Is(err, store.ErrUnknownDomain):
					return fmt.Errorf("alias %s: its domain is not local; add it first with posthorn domain add", alias)
				case errors.Is(err, store.ErrExists):
					return fmt.Errorf("%s already exists (as an account or alias)", alias)
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("%v (targets must be local accounts or aliases)", err)
				case err != nil:
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "added alias %s -> %s\n", alias, strings.Join(targets, ", "))
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List aliases and their targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withData(cmd.Context(), func(d *app.Data) error {
				aliases, err := d.Store.ListAliases(cmd.Context())
				if err != nil {
					return err
				}
				for _, a := range aliases {
					fmt.Fprintf(e.stdout, "%s -> %s\n", a.Address, strings.Join(a.Targets, ", "))
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove ADDRESS",
		Short: "Remove an alias",
		Args:  exactArgs(1, "one alias address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			alias, err := parseAliasAddress(args[0])
			if err != nil {
				return err
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				if err := d.Store.RemoveAlias(cmd.Context(), alias); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("unknown alias %s", alias)
				} else if err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed alias %s\n", alias)
				return err
			})
		},
	})
	return cmd
}

// parseAliasAddress accepts an address or "@domain", the catch-all of a domain.
func parseAliasAddress(s string) (string, error) {
	if strings.HasPrefix(s, "@") {
		d, err := address.ParseDomain(s[1:])
		if err != nil {
			return "", fmt.Errorf("%w %q: %v", address.ErrInvalid, s, err)
		}
		return "@" + d, nil
	}
	a, err := address.Parse(s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}
