package cli

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"posthorn/internal/campaign"
)

// TestWriteStats: the numbers are printed with people's and machines' apart, and the chart
// has two bounded lines per hour, its longest bar for the busiest hour.
func TestWriteStats(t *testing.T) {
	hour := time.Date(2026, 12, 7, 14, 0, 0, 0, time.UTC)
	st := campaign.Stats{
		CampaignID: 3, Name: "june", Status: "finished", Recipients: 1000, Sent: 1000, Delivered: 950,
		Opens:  campaign.Engagement{Human: 300, Machine: 200, UniqueHuman: 250, UniqueMachine: 180},
		Clicks: campaign.Engagement{Human: 40, Machine: 12},
		Rates:  campaign.Rates{Delivery: 0.95, Open: 250.0 / 950},
		Hours: []campaign.HourlyEvents{
			{Hour: hour, Opens: campaign.Split{Human: 200, Machine: 200}, Clicks: campaign.Split{Human: 30, Machine: 12}},
			{Hour: hour.Add(time.Hour), Opens: campaign.Split{Human: 100}, Clicks: campaign.Split{Human: 10}},
			{Hour: hour.Add(2 * time.Hour), Delivered: 5, Bounces: 1}, // neither opens nor clicks: no line
		},
	}
	var b strings.Builder
	writeStats(&b, st, true)
	out := b.String()
	for _, want := range []string{"delivered", "950 (95.0%)", "300 / 200 (unique 250 / 180)", "26.3%", "12-07 14h"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var bars []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, " o ") || strings.Contains(line, " c ") {
			bars = append(bars, line)
			if n := utf8.RuneCountInString(line); n > 2*chartWidth+40 {
				t.Errorf("chart line of %d characters: %q", n, line)
			}
		}
	}
	if len(bars) != 4 {
		t.Fatalf("chart has %d lines, want 4:\n%s", len(bars), out)
	}
	if got := strings.Count(bars[0], "#") + strings.Count(bars[0], "."); got != chartWidth {
		t.Errorf("the busiest hour's bar is %d wide, want %d: %q", got, chartWidth, bars[0])
	}
	if got := strings.Count(bars[2], "#"); got != chartWidth/4 {
		t.Errorf("the second hour's opens bar is %d, want %d: %q", got, chartWidth/4, bars[2])
	}
}
