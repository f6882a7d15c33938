package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
)

func (e *env) domainCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "domain", Short: "Manage the local mail domains"}
	cmd.AddCommand(e.domainDNSCmd(), &cobra.Command{
		Use:   "add NAME",
		Short: "Add a domain this server receives mail for (with its DKIM keys)",
		Args:  exactArgs(1, "one domain name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := admin.ParseDomain("domain", args[0])
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if _, err := a.AddDomain(cmd.Context(), name); err != nil {
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
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				domains, err := a.ListDomains(cmd.Context())
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
			name, err := admin.ParseDomain("domain", args[0])
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.RemoveDomain(cmd.Context(), name); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed domain %s\n", name)
				return err
			})
		},
	})
	return cmd
}
