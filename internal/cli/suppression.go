package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/campaign"
)

func (e *env) suppressionCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "suppression", Short: "Manage the suppression list: addresses bulk mail never goes to"}
	var in campaign.SuppressionInput
	var reason string
	var expires time.Duration
	add := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Suppress an address (--reason manual unless given)",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if in.Reason, err = campaign.ParseReason(reason); err != nil {
				return err
			}
			in.Address = args[0]
			if in.Source == "" {
				in.Source = "cli"
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if expires > 0 {
					in.Expires = time.Now().Add(expires)
				}
				sup, err := s.Suppress(cmd.Context(), in)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "suppressed %s (%s)\n", sup.Address, sup.Reason)
				return err
			})
		},
	}
	e.suppressionFlags(add, &reason, &in.Source, &expires)
	var importIn campaign.SuppressionInput
	var importReason string
	var importExpires time.Duration
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Suppress every address of FILE (one per line, # comments); - reads standard input",
		Args:  exactArgs(1, "one file of addresses"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if importIn.Reason, err = campaign.ParseReason(importReason); err != nil {
				return err
			}
			if importIn.Source == "" {
				importIn.Source = "import"
			}
			r, size, closeInput, err := e.openInput(args[0])
			if err != nil {
				return err
			}
			err = e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if importExpires > 0 {
					importIn.Expires = time.Now().Add(importExpires)
				}
				opts, done := e.importOptions(size)
				report, err := s.ImportSuppressions(cmd.Context(), r, importIn, opts)
				done()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "suppressed %d of %d addresses, %d rejected\n", report.Imported,
					report.Rows, report.Rejects)
				return err
			})
			return errors.Join(err, closeInput())
		},
	}
	e.suppressionFlags(imp, &importReason, &importIn.Source, &importExpires)
	cmd.AddCommand(add, imp, &cobra.Command{
		Use:   "remove ADDRESS",
		Short: "Take an address off the suppression list",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if err := s.Unsuppress(cmd.Context(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "removed suppression of %s\n", args[0])
				return err
			})
		},
	}, &cobra.Command{
		Use:   "list",
		Short: "List the suppressed addresses with the reason, source, time and expiry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				after := ""
				for {
					page, err := s.Suppressions(cmd.Context(), after, 1000)
					if err != nil {
						return err
					}
					for _, sup := range page {
						expiry := "never expires"
						if !sup.Expires.IsZero() {
							expiry = "expires " + sup.Expires.UTC().Format(time.RFC3339)
						}
						fmt.Fprintf(e.stdout, "%s %s (%s) since %s, %s\n", sup.Address, sup.Reason, sup.Source,
							sup.CreatedAt.UTC().Format(time.RFC3339), expiry)
					}
					if len(page) < 1000 {
						return nil
					}
					after = page[len(page)-1].Address
				}
			})
		},
	})
	return cmd
}

func (e *env) suppressionFlags(cmd *cobra.Command, reason, source *string, expires *time.Duration) {
	cmd.Flags().StringVar(reason, "reason", "manual", "manual, hard_bounce, soft_bounces, complaint or unsubscribe")
	cmd.Flags().StringVar(source, "source", "", "what the suppression comes from (default: cli, or import)")
	cmd.Flags().DurationVar(expires, "expires", 0, "lift the suppression after this long (e.g. 720h); default never")
}
