package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/operr"
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
			alias, targets, err := admin.ParseAlias(args[0], args[1:])
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				_, _, err := a.AddAlias(cmd.Context(), alias, targets)
				if _, ok := operr.As(err, operr.NotFound, "alias"); ok {
					return fmt.Errorf("%w; add it first with posthorn domain add", err)
				} else if err != nil {
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
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				aliases, err := a.ListAliases(cmd.Context())
				if err != nil {
					return err
				}
				for _, al := range aliases {
					fmt.Fprintf(e.stdout, "%s -> %s\n", al.Address, strings.Join(al.Targets, ", "))
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove ADDRESS",
		Short: "Remove an alias",
		Args:  exactArgs(1, "one alias address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			alias, err := admin.ParseAddressOrDomain("alias", args[0])
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.RemoveAlias(cmd.Context(), alias); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed alias %s\n", alias)
				return err
			})
		},
	})
	return cmd
}
