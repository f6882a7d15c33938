package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/campaign"
)

// chartWidth is the widest bar of the hourly chart, in characters.
const chartWidth = 40

func (e *env) campaignStatsCmd() *cobra.Command {
	var asJSON, ascii bool
	cmd := &cobra.Command{
		Use:   "stats ID",
		Short: "Show a campaign's numbers and rates (machine opens and clicks apart) and a chart of opens and clicks per hour",
		Args:  exactArgs(1, "one campaign id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := campaignID(args[0])
			if err != nil {
				return err
			}
			return e.withCampaign(cmd.Context(), func(s *campaign.Service) error {
				st, err := s.Stats(cmd.Context(), id)
				if err != nil {
					return err
				}
				if asJSON {
					return campaign.WriteStatsJSON(e.stdout, st)
				}
				writeStats(e.stdout, st, ascii)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the numbers as JSON")
	cmd.Flags().BoolVar(&ascii, "ascii", false, "draw the chart with ASCII characters only")
	return cmd
}

// writeStats prints st as a table of numbers and rates and a chart of each hour's opens and
// clicks, people's and machines' apart.
func writeStats(w io.Writer, st campaign.Stats, ascii bool) {
	pct := func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) }
	fmt.Fprintf(w, "campaign %d %s (%s)\n", st.CampaignID, st.Name, st.Status)
	rows := [][2]string{
		{"recipients", fmt.Sprint(st.Recipients)},
		{"pending / skipped", fmt.Sprintf("%d / %d", st.Pending, st.Skipped)},
		{"sent", fmt.Sprint(st.Sent)},
		{"delivered", fmt.Sprintf("%d (%s)", st.Delivered, pct(st.Rates.Delivery))},
		{"deferred", fmt.Sprint(st.Deferred)},
		{"bounced hard / soft", fmt.Sprintf("%d / %d", st.Bounced.Hard, st.Bounced.Soft)},
		{"opens human / machine", fmt.Sprintf("%d / %d (unique %d / %d)", st.Opens.Human, st.Opens.Machine, st.Opens.UniqueHuman, st.Opens.UniqueMachine)},
		{"open rate (human)", pct(st.Rates.Open) + "   machine " + pct(st.MachineRates.Open)},
		{"clicks human / machine", fmt.Sprintf("%d / %d (unique %d / %d)", st.Clicks.Human, st.Clicks.Machine, st.Clicks.UniqueHuman, st.Clicks.UniqueMachine)},
		{"click rate (human)", pct(st.Rates.Click) + "   machine " + pct(st.MachineRates.Click)},
		{"unsubscribes", fmt.Sprintf("%d (%s)", st.Unsubscribes, pct(st.Rates.Unsubscribe))},
		{"complaints", fmt.Sprintf("%d (%s)", st.Complaints, pct(st.Rates.Complaint))},
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  %-24s %s\n", r[0], r[1])
	}
	for _, l := range st.Links {
		fmt.Fprintf(w, "  link %-3d %-40s %d human, %d machine\n", l.Index, truncate(l.URL, 40), l.Clicks.Human, l.Clicks.Machine)
	}
	// The chart is of opens and clicks: hours with only other events are left out.
	hours := slices.DeleteFunc(slices.Clone(st.Hours), func(h campaign.HourlyEvents) bool {
		return h.Opens.Total() == 0 && h.Clicks.Total() == 0
	})
	if len(hours) == 0 {
		return
	}
	human, machine := "█", "░"
	if ascii {
		human, machine = "#", "."
	}
	var most int64 = 1
	for _, h := range hours {
		most = max(most, h.Opens.Total(), h.Clicks.Total())
	}
	bar := func(s campaign.Split) string {
		n := func(v int64) int { return int((v*chartWidth + most - 1) / most) }
		return strings.Repeat(human, n(s.Human)) + strings.Repeat(machine, n(s.Machine))
	}
	fmt.Fprintf(w, "per hour (UTC): %s human, %s machine; one line of opens (o) and one of clicks (c)\n", human, machine)
	for _, h := range hours {
		stamp := h.Hour.UTC().Format("01-02 15h")
		fmt.Fprintf(w, "  %s o %6d/%-6d %s\n", stamp, h.Opens.Human, h.Opens.Machine, bar(h.Opens))
		fmt.Fprintf(w, "  %s c %6d/%-6d %s\n", strings.Repeat(" ", len(stamp)), h.Clicks.Human, h.Clicks.Machine, bar(h.Clicks))
	}
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
