package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"posthorn/internal/address"
	"posthorn/internal/app"
	"posthorn/internal/store"
)

func (e *env) domainCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "domain", Short: "Manage the local mail domains"}
	cmd.AddCommand(e.domainDNSCmd(), &cobra.Command{
		Use:   "add NAME",
		Short: "Add a domain this server receives mail for (with its DKIM keys)",
		Args:  exactArgs(1, "one domain name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := address.ParseDomain(args[0])
			if err != nil {
				return fmt.Errorf("domain %q: %v", args[0], err)
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				if _, err := app.AddDomain(cmd.Context(), d, name); errors.Is(err, store.ErrExists) {
					return fmt.Errorf("domain %s already exists", name)
				} else if err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "added domain %s\n", name)
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the domains",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withData(cmd.Context(), func(d *app.Data) error {
				domains, err := d.Store.ListDomains(cmd.Context())
				if err != nil {
					return err
				}
				for _, dom := range domains {
					fmt.Fprintln(e.stdout, dom.Name)
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a domain that has no accounts or aliases left",
		Args:  exactArgs(1, "one domain name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := address.ParseDomain(args[0])
			if err != nil {
				return fmt.Errorf("domain %q: %v", args[0], err)
			}
			return e.withData(cmd.Context(), func(d *app.Data) error {
				err := d.Store.RemoveDomain(cmd.Context(), name)
				switch {
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("unknown domain %s", name)
				case errors.Is(err, store.ErrInUse):
					return fmt.Errorf("domain %s still has accounts or aliases; remove them first", name)
				case err != nil:
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "removed domain %s\n", name)
				return err
			})
		},
	})
	return cmd
}
