package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/operr"
)

// userHoldCmd: "user hold ADDRESS on|off" puts an account under legal hold or lifts it
// (admin.SetLegalHold); without on or off it shows whether the account is held.
func (e *env) userHoldCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "hold ADDRESS [on|off]",
		Aliases: []string{"legal-hold"},
		Short:   "Put an account under legal hold (on: retention removes nothing of it) or lift it (off)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 || len(args) > 2 {
				return fmt.Errorf("%s: want an address and, to change it, on or off", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			addr, err := operr.ParseAddress("address", args[0])
			if err != nil {
				return err
			}
			set, on := len(args) == 2, false
			if set {
				if on, err = parseOnOff("hold", args[1]); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			return e.withAdmin(ctx, func(a *admin.Admin) error {
				if set {
					if err := a.SetLegalHold(ctx, addr, on); err != nil {
						return err
					}
				}
				acc, err := a.Account(ctx, addr)
				if err != nil {
					return err
				}
				holds, err := a.LegalHolds(ctx)
				if err != nil {
					return err
				}
				if since, ok := holds[acc.ID]; ok {
					_, err = fmt.Fprintf(e.stdout, "%s is under legal hold since %s\n", acc.Address, since.UTC().Format(time.RFC3339))
				} else {
					_, err = fmt.Fprintf(e.stdout, "%s is not under legal hold\n", acc.Address)
				}
				return err
			})
		},
	}
}

// userShowCmd: "user show ADDRESS" prints an account: when it was created, its quota, the
// admin flag and its legal hold.
func (e *env) userShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ADDRESS",
		Short: "Show an account: created, quota and usage, admin flag, legal hold",
		Args:  exactArgs(1, "one address"),
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
				acc, err := a.Account(ctx, addr)
				if err != nil {
					return err
				}
				q, err := a.Quota(ctx, addr)
				if err != nil {
					return err
				}
				admins, err := a.WebAdmins(ctx)
				if err != nil {
					return err
				}
				holds, err := a.LegalHolds(ctx)
				if err != nil {
					return err
				}
				hold := "no"
				if since, ok := holds[acc.ID]; ok {
					hold = "since " + since.UTC().Format(time.RFC3339)
				}
				_, err = fmt.Fprintf(e.stdout, "address:    %s\ncreated:    %s\nquota:      %s\nused:       %.1f MiB in %d messages\nadmin:      %s\nlegal hold: %s\n",
					acc.Address, acc.CreatedAt.UTC().Format(time.RFC3339), describeQuota(q.QuotaBytes, cfg.Limits.DefaultQuotaMiB),
					float64(q.UsedBytes)/(1<<20), q.Messages, yesNo(admins[acc.ID]), hold)
				return err
			})
		},
	}
}

// parseOnOff reads the on or off given for field.
func parseOnOff(field, arg string) (bool, error) {
	switch arg {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, operr.New(operr.Invalid, field, arg, nil, "want on or off, not %q", arg)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
