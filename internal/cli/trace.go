package cli

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/mailtrace"
)

// traceCmd is `posthorn trace`: the message trace over the stored mail log (package
// mailtrace). The server stores the events a fraction of a second after their log line.
func (e *env) traceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "trace", Short: "Search the mail log and follow one message step by step"}
	cmd.AddCommand(e.traceSearchCmd(), e.traceShowCmd())
	return cmd
}

// traceSearchCmd is `trace search`: one line per event, newest first.
func (e *env) traceSearchCmd() *cobra.Command {
	params := map[string]*string{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search [--from A] [--to A] [--msgid ID] [--since T] [--until T] [--limit N] [--after ID]",
		Short: "Search the mail log by sender, recipient, Message-ID and time, newest first",
		Args:  exactArgs(0, "no arguments, only flags"),
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := mailtrace.ParseQuery(func(name string) string { return *params[name] }, time.Now())
			if err != nil {
				return err
			}
			return e.withTracer(cmd, func(tr *mailtrace.Tracer) error {
				found, err := tr.Search(cmd.Context(), q)
				if err != nil {
					return err
				}
				if asJSON {
					return mailtrace.WriteJSON(e.stdout, found)
				}
				return writeTraceEvents(e.stdout, found)
			})
		},
	}
	for _, f := range []struct{ name, usage string }{
		{"from", "envelope sender: an address (domain case-insensitive) or @domain"},
		{"to", "a recipient: an address (domain case-insensitive) or @domain"},
		{"msgid", "the Message-ID, with or without angle brackets"},
		{"since", "events at or after: an RFC 3339 time or a duration before now (24h, 7d)"},
		{"until", "events before: an RFC 3339 time or a duration before now"},
		{"limit", fmt.Sprintf("the most events shown (default 100, at most %d)", mailtrace.MaxLimit)},
		{"after", "the next page: the event id the previous one named"},
	} {
		params[f.name] = cmd.Flags().String(f.name, "", f.usage)
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the events as JSON (as GET /api/v1/trace)")
	return cmd
}

// traceShowCmd is `trace show ID|MSGID`: every step of one message, oldest first.
func (e *env) traceShowCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID|MSGID",
		Short: "Show every step of one message: received, verdict, stored, queued, each delivery attempt, bounced",
		Args:  exactArgs(1, "one message id (as trace search shows it) or Message-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.withTracer(cmd, func(tr *mailtrace.Tracer) error {
				steps, err := tr.Trace(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if asJSON {
					return mailtrace.WriteJSON(e.stdout, mailtrace.Traced{Ref: args[0], Steps: steps})
				}
				tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				for _, s := range steps {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Time.Format(time.RFC3339), s.Step, s.Summary)
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the steps as JSON (as GET /api/v1/trace/{id})")
	return cmd
}

// withTracer runs fn with the trace of the configuration's data directory.
func (e *env) withTracer(cmd *cobra.Command, fn func(*mailtrace.Tracer) error) error {
	return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
		tr, err := a.Tracer()
		if err != nil {
			return err
		}
		return fn(tr)
	})
}

// writeTraceEvents prints one line per event and, when there are more, how to see them.
func writeTraceEvents(w io.Writer, found mailtrace.Found) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tEVENT\tMESSAGE\tFROM\tTO\tRESULT\tCODE")
	for _, ev := range found.Events {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t<%s>\t%s\t%s\t%s\n", ev.ID, ev.Time.Format(time.RFC3339), ev.Event,
			orDash(ev.Message), ev.From, ev.Rcpt, ev.Result, ev.Code)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if found.Next != 0 {
		_, err := fmt.Fprintf(w, "%d events; more with --after %d\n", len(found.Events), found.Next)
		return err
	}
	_, err := fmt.Fprintf(w, "%d events\n", len(found.Events))
	return err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
