package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
)

func (e *env) checkCmd() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "check",
		Short: "Verify the integrity of the store and the message bodies",
		Long: `Verify the store's invariants (UIDs, MODSEQs, reference counts, SQLite integrity) and that every
referenced message body exists. With --repair, delete message bodies nothing references (left by
a crash before their commit); run --repair only while the server is stopped.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if repair {
					n, err := a.RemoveOrphans(cmd.Context(), time.Time{})
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "removed %d unreferenced message bodies\n", n)
				}
				problems, err := a.Check(cmd.Context())
				if err != nil {
					return err
				}
				for _, p := range problems {
					fmt.Fprintln(e.stdout, p)
				}
				if len(problems) > 0 {
					return fmt.Errorf("check: %d problems found", len(problems))
				}
				_, err = fmt.Fprintln(e.stdout, "ok")
				return err
			})
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "delete unreferenced message bodies first (server stopped)")
	return cmd
}
