package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"posthorn/internal/campaign"
)

func (e *env) subscriberCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "subscriber", Short: "Manage the subscribers of mailing lists"}
	cmd.AddCommand(e.subscriberAddCmd(), e.subscriberListCmd(), e.subscriberRemoveCmd(), e.subscriberImportCmd(),
		e.subscriberExportCmd())
	return cmd
}

// parseAttributes turns "key=value" flags into attributes.
func parseAttributes(pairs []string) (map[string]any, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	attrs := make(map[string]any, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok {
			return nil, fmt.Errorf("--attr %q: want KEY=VALUE", p)
		}
		attrs[k] = v
	}
	return attrs, nil
}

func (e *env) subscriberAddCmd() *cobra.Command {
	var in campaign.SubscriberInput
	var attrs []string
	cmd := &cobra.Command{
		Use:   "add ADDRESS",
		Short: "Add or update a subscriber, and subscribe it to --list",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Address = args[0]
			var err error
			if in.Attributes, err = parseAttributes(attrs); err != nil {
				return err
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				sub, err := s.SaveSubscriber(cmd.Context(), in)
				if err != nil {
					return err
				}
				if in.List == "" {
					_, err = fmt.Fprintf(e.stdout, "saved subscriber %s\n", sub.Address)
				} else {
					_, err = fmt.Fprintf(e.stdout, "subscribed %s to %s\n", sub.Address, in.List)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVar(&in.List, "list", "", "the list to subscribe the address to")
	cmd.Flags().StringVar(&in.Name, "name", "", "the subscriber's name")
	cmd.Flags().StringArrayVar(&attrs, "attr", nil, "an attribute, KEY=VALUE (repeatable)")
	cmd.Flags().StringVar(&in.ConsentText, "consent", "", "the text the person agreed to")
	cmd.Flags().BoolVar(&in.Tracking, "tracking", false, "the person agreed to open and click tracking")
	cmd.Flags().BoolVar(&in.Confirmed, "confirmed", false, "on a double opt-in list: the person has confirmed already")
	return cmd
}

func (e *env) subscriberListCmd() *cobra.Command {
	var list string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List subscribers (of --list, with their status there)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				var after int64
				for {
					page, err := s.Subscribers(cmd.Context(), list, after, 1000)
					if err != nil {
						return err
					}
					for _, sub := range page {
						attrs, err := json.Marshal(sub.Attributes)
						if err != nil {
							return err
						}
						status := ""
						if list != "" {
							status = string(sub.Subscription.Status) + " "
						}
						fmt.Fprintf(e.stdout, "%s %s%q %s\n", sub.Address, status, sub.Name, attrs)
					}
					if len(page) < 1000 {
						return nil
					}
					after = page[len(page)-1].ID
				}
			})
		},
	}
	cmd.Flags().StringVar(&list, "list", "", "only the subscribers of this list")
	return cmd
}

func (e *env) subscriberRemoveCmd() *cobra.Command {
	var list string
	cmd := &cobra.Command{
		Use:   "remove ADDRESS",
		Short: "Unsubscribe ADDRESS from --list, or without --list delete the subscriber and its subscriptions",
		Args:  exactArgs(1, "one address"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				if list != "" {
					if err := s.Unsubscribe(cmd.Context(), campaign.SubscriberInput{Address: args[0], List: list}); err != nil {
						return err
					}
					_, err := fmt.Fprintf(e.stdout, "unsubscribed %s from %s\n", strings.ToLower(args[0]), list)
					return err
				}
				if err := s.DeleteSubscriber(cmd.Context(), args[0]); err != nil {
					return err
				}
				_, err := fmt.Fprintf(e.stdout, "deleted subscriber %s\n", strings.ToLower(args[0]))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&list, "list", "", "the list to unsubscribe from")
	return cmd
}

// openInput opens FILE, or standard input for "-", and returns its size when known.
func (e *env) openInput(name string) (io.Reader, int64, func() error, error) {
	if name == "-" {
		return e.stdin, 0, func() error { return nil }, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, 0, nil, err
	}
	var size int64
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return f, size, f.Close, nil
}

// importOptions prints every rejected row on stdout and, when stderr is a terminal, a
// progress line on it; done ends the progress line.
func (e *env) importOptions(size int64) (opts campaign.ImportOptions, done func()) {
	opts = campaign.ImportOptions{Size: size, Reject: func(r campaign.Rejection) {
		detail := ""
		if r.Detail != "" {
			detail = " (" + r.Detail + ")"
		}
		fmt.Fprintf(e.stdout, "line %d: %s: %s%s\n", r.Line, r.Address, r.Reason, detail)
	}}
	f, ok := e.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return opts, func() {}
	}
	start := time.Now()
	opts.Progress = func(p campaign.Progress) {
		fmt.Fprint(f, "\r"+progressLine(p, time.Since(start)))
	}
	return opts, func() { fmt.Fprint(f, "\n") }
}

// progressLine draws an import's progress: a bar when the total is known, the rows and rate.
func progressLine(p campaign.Progress, elapsed time.Duration) string {
	rate := ""
	if s := elapsed.Seconds(); s > 0 {
		rate = fmt.Sprintf(", %.0f rows/s", float64(p.Rows)/s)
	}
	if p.Total <= 0 {
		return fmt.Sprintf("%d rows%s", p.Rows, rate)
	}
	const width = 30
	frac := min(float64(p.Bytes)/float64(p.Total), 1)
	filled := int(frac * width)
	return fmt.Sprintf("[%s%s] %3.0f%% %d rows%s", strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		frac*100, p.Rows, rate)
}

func (e *env) subscriberImportCmd() *cobra.Command {
	var in campaign.CSVInput
	cmd := &cobra.Command{
		Use:   "import FILE --list LIST",
		Short: "Import a CSV file (header: email, name, attributes...) into a list; - reads standard input",
		Args:  exactArgs(1, "one CSV file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if in.List == "" {
				return fmt.Errorf("%s: want --list", cmd.CommandPath())
			}
			r, size, closeInput, err := e.openInput(args[0])
			if err != nil {
				return err
			}
			err = e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				opts, done := e.importOptions(size)
				report, err := s.ImportCSV(cmd.Context(), r, in, opts)
				done()
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(e.stdout, "imported %d of %d rows into %s, %d rejected\n", report.Imported,
					report.Rows, in.List, report.Rejects)
				return err
			})
			return errors.Join(err, closeInput())
		},
	}
	cmd.Flags().StringVar(&in.List, "list", "", "the list to import into")
	cmd.Flags().StringVar(&in.ConsentText, "consent", "", "the text the people agreed to")
	cmd.Flags().BoolVar(&in.Tracking, "tracking", false, "the people agreed to open and click tracking")
	cmd.Flags().BoolVar(&in.Confirmed, "confirmed", false, "on a double opt-in list: the people have confirmed already")
	return cmd
}

func (e *env) subscriberExportCmd() *cobra.Command {
	var list string
	cmd := &cobra.Command{
		Use:   "export --list LIST",
		Short: "Write a list's subscribers (not those who left) as CSV on standard output",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list == "" {
				return fmt.Errorf("%s: want --list", cmd.CommandPath())
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				_, err := s.ExportCSV(cmd.Context(), list, e.stdout)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&list, "list", "", "the list to export")
	return cmd
}
