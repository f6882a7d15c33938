package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"posthorn/internal/app"
	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// withCampaign runs fn with the bulk mail service on the data directory of the configuration.
func (e *env) withCampaign(ctx context.Context, fn func(s *campaign.Service) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return withData(ctx, cfg, func(d *app.Data) error {
		cs, ok := d.Store.(store.CampaignStore)
		if !ok {
			return errors.New("this store keeps no mailing lists")
		}
		return fn(&campaign.Service{Store: cs})
	})
}

func (e *env) listCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "list", Short: "Manage mailing lists"}
	var description string
	var double bool
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a mailing list (single opt-in unless --double-opt-in)",
		Args:  exactArgs(1, "one list name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := campaign.ListInput{Name: args[0], Description: description, OptIn: string(store.OptInSingle)}
			if double {
				in.OptIn = string(store.OptInDouble)
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				l, err := s.CreateList(cmd.Context(), in)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "created list %s (%s opt-in)\n", l.Name, l.OptIn)
				return err
			})
		},
	}
	create.Flags().StringVar(&description, "description", "", "what the list is about")
	create.Flags().BoolVar(&double, "double-opt-in", false, "subscriptions wait for the person to confirm by mail")
	cmd.AddCommand(create, &cobra.Command{
		Use:   "list",
		Short: "List the mailing lists with their subscriptions by status",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				lists, err := s.Lists(cmd.Context())
				if err != nil {
					return err
				}
				for _, l := range lists {
					desc := ""
					if l.Description != "" {
						desc = ": " + l.Description
					}
					fmt.Fprintf(e.stdout, "%s (%s opt-in%s) %d confirmed, %d unconfirmed, %d unsubscribed\n", l.Name,
						l.OptIn, desc, l.Counts[store.StatusConfirmed], l.Counts[store.StatusUnconfirmed],
						l.Counts[store.StatusUnsubscribed])
				}
				return nil
			})
		},
	}, &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a mailing list and its subscriptions (the subscribers stay)",
		Args:  exactArgs(1, "one list name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if err := s.DeleteList(cmd.Context(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "deleted list %s\n", args[0])
				return err
			})
		},
	})
	return cmd
}
