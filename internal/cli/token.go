package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/store"
)

// tokenCmd is `posthorn token`: the JSON API's tokens.
func (e *env) tokenCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "token", Short: "Manage the JSON API's tokens (Authorization: Bearer ph_...)"}
	var asAdmin bool
	var account string
	create := &cobra.Command{
		Use:   "create (--admin | --account ADDRESS) NAME",
		Short: "Create a token for every admin route (--admin) or for sending as one account (--account); it is shown once",
		Args:  exactArgs(1, "one token name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := admin.TokenInput{Name: args[0]}
			switch {
			case asAdmin && account != "":
				return fmt.Errorf("token create: want --admin or --account ADDRESS, not both")
			case asAdmin:
				in.Scope = store.ScopeAdmin
			case account != "":
				in.Scope, in.Account = store.ScopeAccount, account
			default:
				return fmt.Errorf("token create: want --admin or --account ADDRESS")
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				token, row, err := a.Tokens().Create(cmd.Context(), in)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "created %s token %d %s:\n%s\nKeep it now: it cannot be shown again.\n",
					row.Scope, row.ID, row.Name, token)
				return err
			})
		},
	}
	create.Flags().BoolVar(&asAdmin, "admin", false, "the token may use every admin route")
	create.Flags().StringVar(&account, "account", "", "the token acts for this account (it may only send)")
	cmd.AddCommand(create, &cobra.Command{
		Use:   "list",
		Short: "List the tokens with their scope, creation, last use and revocation",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				list, err := a.Tokens().List(cmd.Context())
				if err != nil {
					return err
				}
				stamp := func(t time.Time, none string) string {
					if t.IsZero() {
						return none
					}
					return t.UTC().Format(time.RFC3339)
				}
				for _, t := range list {
					scope := string(t.Scope)
					if t.Scope == store.ScopeAccount {
						scope += " " + t.Account
					}
					state := "active"
					if t.Revoked() {
						state = "revoked " + stamp(t.RevokedAt, "")
					}
					fmt.Fprintf(e.stdout, "%d %s (%s) created %s, last used %s, %s\n", t.ID, t.Name, scope,
						stamp(t.CreatedAt, "?"), stamp(t.LastUsedAt, "never"), state)
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a token: every later request with it is refused",
		Args:  exactArgs(1, "one token id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("token id %q: want a number (see posthorn token list)", args[0])
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				if err := a.Tokens().Revoke(cmd.Context(), id); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "revoked token %d\n", id)
				return err
			})
		},
	})
	return cmd
}
