package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/app"
	"posthorn/internal/campaign"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

// withSender runs fn with a campaign sender on the data directory of the configuration: the
// start check and test sends, committed through a committer of the command's own (the
// server's loop, when it runs, sends what is started).
func (e *env) withSender(ctx context.Context, fn func(s *campaign.Sender) error) error {
	cfg, err := e.config()
	if err != nil {
		return err
	}
	return withData(ctx, cfg, func(d *app.Data) error {
		cs, ok := d.Store.(store.CampaignStore)
		obs, ok2 := d.Store.(campaign.OutboxStore)
		if !ok || !ok2 {
			return errors.New("this store keeps no campaigns")
		}
		committer := delivery.New(d.Store, d.Blobs.Bodies(), slog.New(slog.DiscardHandler))
		defer committer.Close()
		return fn(&campaign.Sender{
			Service:   &campaign.Service{Store: cs},
			Outbox:    &campaign.Outbox{Store: obs, Committer: committer},
			PublicURL: cfg.Campaign.PublicURL,
		})
	})
}

// campaignID parses a campaign id argument.
func campaignID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, fmt.Errorf("campaign id %q: want a number", s)
	}
	return id, nil
}

// parseStartTime reads --at: RFC 3339, or "2006-01-02 15:04" in UTC.
func parseStartTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--at %q: want a time like 2026-06-01T09:00:00Z or \"2026-06-01 09:00\" (UTC)", s)
}

// campaignCmd is `posthorn campaign`. Its subcommands are listed here, one per line, so that
// another (campaign stats) is one more line.
func (e *env) campaignCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "campaign", Short: "Create, test, start and follow campaigns"}
	cmd.AddCommand(e.campaignCreateCmd())
	cmd.AddCommand(e.campaignListCmd())
	cmd.AddCommand(e.campaignShowCmd())
	cmd.AddCommand(e.campaignTestCmd())
	cmd.AddCommand(e.campaignStartCmd())
	cmd.AddCommand(e.campaignStatusCmd("pause", "Pause a running campaign", "paused", (*campaign.Service).Pause))
	cmd.AddCommand(e.campaignStatusCmd("resume", "Resume a paused campaign", "resumed", (*campaign.Service).Resume))
	cmd.AddCommand(e.campaignStatsCmd())
	cmd.AddCommand(e.campaignStatusCmd("cancel", "Cancel a campaign that is not finished", "cancelled", (*campaign.Service).Cancel))
	cmd.AddCommand(e.campaignContentCmd(true))
	cmd.AddCommand(e.campaignDeleteCmd())
	return cmd
}

func (e *env) campaignCreateCmd() *cobra.Command {
	return e.campaignContentCmd(false)
}

// campaignContentCmd is `campaign create NAME ...`, or with update `campaign update ID NAME
// ...`, which replaces a draft whole with the same flags (campaign.Service.UpdateCampaign).
func (e *env) campaignContentCmd(update bool) *cobra.Command {
	var in campaign.CampaignInput
	var body bodyFlags
	var noTracking bool
	use, short, args := "create NAME", "Create a draft campaign to one or more lists", exactArgs(1, "one campaign name")
	if update {
		use, short, args = "update ID NAME", "Replace a draft campaign: its name, sender, lists, content and options", exactArgs(2, "a campaign id and its name")
	}
	cmd := &cobra.Command{
		Use:   use + " --from ADDRESS --list LIST (--template T | --subject S --html FILE [--text FILE])",
		Short: short,
		Args:  args,
		RunE: func(cmd *cobra.Command, args []string) error {
			var id int64
			var err error
			if update {
				if id, err = campaignID(args[0]); err != nil {
					return err
				}
				args = args[1:]
			}
			in.Name, in.Tracking = args[0], !noTracking
			if in.Subject, in.HTML, in.Text, err = body.read(); err != nil {
				return err
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if update {
					c, err := s.UpdateCampaign(cmd.Context(), id, in)
					if err != nil {
						return err
					}
					_, err = fmt.Fprintf(e.stdout, "updated campaign %d %s (draft)\n", c.ID, c.Name)
					return err
				}
				c, err := s.CreateCampaign(cmd.Context(), in)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "created campaign %d %s (draft)\n", c.ID, c.Name)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&in.From, "from", "", `sender on a local domain: "news@example.org" or "News <news@example.org>"`)
	f.StringArrayVar(&in.Lists, "list", nil, "list to send to (repeat for more)")
	f.StringVar(&in.Template, "template", "", "template to copy the subject and bodies from")
	body.register(cmd)
	f.StringVar(&in.ReplyTo, "reply-to", "", "Reply-To address")
	f.IntVar(&in.RatePerMinute, "rate", 0, "messages per minute at most (0: no cap of its own)")
	f.BoolVar(&noTracking, "no-tracking", false, "no open pixel, no rewritten links")
	f.BoolVar(&in.Anonymous, "anonymous", false, "count opens and clicks without linking them to a person")
	return cmd
}

// campaignDeleteCmd is `campaign delete ID` (campaign.Service.DeleteCampaign).
func (e *env) campaignDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a campaign that is not sending, with its ledger and statistics",
		Args:  exactArgs(1, "one campaign id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if err := s.DeleteCampaign(cmd.Context(), id); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "deleted campaign %d\n", id)
				return err
			})
		},
	}
}

func (e *env) campaignListCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the campaigns, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				cs, err := s.Campaigns(cmd.Context())
				if err != nil {
					return err
				}
				for _, c := range cs {
					lists, err := s.ListNames(cmd.Context(), c)
					if err != nil {
						return err
					}
					fmt.Fprintf(e.stdout, "%d %s %s to %s\n", c.ID, c.Name, campaign.StatusLine(c), strings.Join(lists, ", "))
				}
				return nil
			})
		},
	}
}

func (e *env) campaignShowCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "show ID",
		Short: "Show a campaign: sender, lists, content, options and its send ledger",
		Args:  exactArgs(1, "one campaign id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				c, err := s.Campaign(cmd.Context(), id)
				if err != nil {
					return err
				}
				lists, err := s.ListNames(cmd.Context(), c)
				if err != nil {
					return err
				}
				stats, err := s.Store.CampaignStats(cmd.Context(), id)
				if err != nil {
					return err
				}
				w := e.stdout
				fmt.Fprintf(w, "campaign %d %s: %s\n", c.ID, c.Name, campaign.StatusLine(c))
				fmt.Fprintf(w, "from: %s\n", c.From)
				if c.ReplyTo != "" {
					fmt.Fprintf(w, "reply-to: %s\n", c.ReplyTo)
				}
				fmt.Fprintf(w, "lists: %s\n", strings.Join(lists, ", "))
				fmt.Fprintf(w, "subject: %s\n", c.Subject)
				rate := "no cap"
				if c.RatePerMinute > 0 {
					rate = fmt.Sprintf("%d per minute", c.RatePerMinute)
				}
				fmt.Fprintf(w, "rate: %s, tracking: %s, anonymous: %s\n", rate, onOff(c.Tracking), onOff(c.Anonymous))
				var parts []string
				for _, st := range []store.RecipientState{store.RecipientPending, store.RecipientQueued, store.RecipientDelivered,
					store.RecipientDeferred, store.RecipientBounced, store.RecipientSkipped} {
					parts = append(parts, fmt.Sprintf("%d %s", stats.Recipients[st], st))
				}
				_, err = fmt.Fprintf(w, "recipients: %s\n", strings.Join(parts, ", "))
				return err
			})
		},
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (e *env) campaignTestCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "test ID ADDRESS...",
		Short: `Send a campaign to the addresses given, with "[test]" before its subject (not counted)`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return fmt.Errorf("%s: want a campaign id and one or more addresses", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			return e.withSender(cmd.Context(), func(s *campaign.Sender) error {
				results, err := s.TestSend(cmd.Context(), id, args[1:])
				for _, r := range results {
					if r.Sent {
						fmt.Fprintf(e.stdout, "sent a test of campaign %d to %s\n", id, r.Address)
					} else {
						fmt.Fprintf(e.stdout, "not sent to %s: %s\n", r.Address, r.Reason)
					}
				}
				return err
			})
		},
	}
}

func (e *env) campaignStartCmd() *cobra.Command {
	var at string
	cmd := &cobra.Command{
		Use:   "start ID [--at TIME]",
		Short: "Check a campaign against its audience and start it now, or schedule it",
		Args:  exactArgs(1, "one campaign id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			var when time.Time
			if at != "" {
				if when, err = parseStartTime(at); err != nil {
					return err
				}
			}
			return e.withSender(cmd.Context(), func(s *campaign.Sender) error {
				if at != "" {
					if err := s.Schedule(cmd.Context(), id, when); err != nil {
						return err
					}
					_, err := fmt.Fprintf(e.stdout, "scheduled campaign %d for %s\n", id, when.Format(time.RFC3339))
					return err
				}
				n, err := s.Start(cmd.Context(), id)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "started campaign %d: %d recipients\n", id, n)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&at, "at", "", `when to start, e.g. 2026-06-01T09:00:00Z or "2026-06-01 09:00" (UTC)`)
	return cmd
}

// campaignStatusCmd is pause, resume or cancel.
func (e *env) campaignStatusCmd(verb, short, done string, op func(*campaign.Service, context.Context, int64) error) *cobra.Command {
	return &cobra.Command{
		Use:   verb + " ID",
		Short: short,
		Args:  exactArgs(1, "one campaign id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if err := op(s, cmd.Context(), id); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "%s campaign %d\n", done, id)
				return err
			})
		},
	}
}
