package ui

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/campaign"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The dashboard and the campaign pages, under /admin/: charts drawn on the server (chart.go).
//
// GET /admin/ is the dashboard: the numbers of admin.Stats per hour of the last ?hours=N
// (1 to 720, default 24; a form of GET, so no JavaScript), as charts of the messages in and
// out, the rejections by reason, spam and viruses, the campaigns' opens and clicks (people's
// and machines' apart) and their deliveries, bounces, unsubscribes and complaints, and the
// queue now (its past size is not recorded). A bad hours answers 400 naming the field.
// GET /admin/campaigns lists the campaigns, newest first, with their status and key numbers;
// GET /admin/campaigns/{id} shows one campaign's numbers (campaign.Stats, those of `posthorn
// campaign stats`) and its hours, from the first hour with an event to the last (at most the
// last admin.MaxStatsHours of them), as charts.

// StatsOperations is the dashboard's operation (admin.Admin's Stats); the UI finds it on its
// Operations, and shows the dashboard without charts when they lack it.
type StatsOperations interface {
	Stats(ctx context.Context, hours int, now time.Time) (admin.Stats, error)
}

// Campaigns are the campaign service's operations the campaign pages call
// (campaign.Service); nil: those pages are not served.
type Campaigns interface {
	Campaigns(ctx context.Context) ([]store.Campaign, error)
	Campaign(ctx context.Context, id int64) (store.Campaign, error)
	Stats(ctx context.Context, id int64) (campaign.Stats, error)
}

// dashFuncs are the template functions of these pages.
func dashFuncs() map[string]any {
	return map[string]any{
		// percent writes a fraction of 1 as a percentage with one decimal.
		"percent": func(f float64) string { return strconv.FormatFloat(f*100, 'f', 1, 64) + "%" },
	}
}

// hourChoices are the windows the dashboard's selector offers, in hours.
var hourChoices = []int{6, 12, 24, 48, 72, 168, 336, 720}

// dashRoutes adds the dashboard and, with Campaigns, the campaign pages.
func (s *Server) dashRoutes(handle func(pattern string, h http.HandlerFunc)) {
	handle("GET /admin/{$}", s.admin(s.dashboard))
	if s.mailings == nil {
		return
	}
	handle("GET /admin/campaigns", s.admin(s.campaignsPage))
	handle("GET /admin/campaigns/{id}", s.admin(s.campaignPage))
}

// dashChart is one chart of a page with its heading and a note under it.
type dashChart struct {
	Heading string
	Note    string
	Chart   Chart
}

type dashData struct {
	Hours   int
	Choices []int
	// Charted is false when the UI has no StatsOperations (or the hours were refused).
	Charted bool
	Stats   admin.Stats
	Charts  []dashChart
}

func (s *Server) dashboard(w http.ResponseWriter, r *http.Request) {
	data := dashData{Hours: admin.DefaultStatsHours, Choices: hourChoices}
	ops, ok := s.ops.(StatsOperations)
	if !ok {
		s.render(w, r, http.StatusOK, "admin", data)
		return
	}
	hours, err := admin.ParseStatsHours(r.URL.Query().Get("hours"))
	if err != nil {
		s.fail(w, r, "admin", data, err)
		return
	}
	data.Hours = hours
	if !slices.Contains(hourChoices, hours) {
		data.Choices = append(slices.Clone(hourChoices), hours)
		slices.Sort(data.Choices)
	}
	st, err := ops.Stats(r.Context(), hours, time.Now())
	if err != nil {
		s.fail(w, r, "admin", data, err)
		return
	}
	data.Charted, data.Stats, data.Charts = true, st, dashCharts(st)
	s.render(w, r, http.StatusOK, "admin", data)
}

// dashCharts are the dashboard's charts of st.
func dashCharts(st admin.Stats) []dashChart {
	hours := make([]time.Time, len(st.Series))
	for i, h := range st.Series {
		hours[i] = h.Hour
	}
	labels := hourLabels(hours)
	series := func(name string, f func(admin.StatsHour) int64) Series {
		v := make([]int64, len(st.Series))
		for i, h := range st.Series {
			v[i] = f(h)
		}
		return Series{Name: name, Values: v}
	}
	var rejections []Series
	for _, reason := range st.Reasons {
		rejections = append(rejections, series(reason, func(h admin.StatsHour) int64 { return h.Rejected[reason] }))
	}
	rejections = append(rejections, series("temporary failure", func(h admin.StatsHour) int64 { return h.TempFailed }))
	q := st.Queue
	return []dashChart{
		{Heading: "Messages in and out", Note: "Received by the MX and submission; delivered to and bounced by remote servers.",
			Chart: Chart{ID: "chart-messages", Title: "Messages in and out per hour", Kind: Lines, Labels: labels, Series: []Series{
				series("received", func(h admin.StatsHour) int64 { return h.In }),
				series("delivered out", func(h admin.StatsHour) int64 { return h.Out }),
				series("bounced out", func(h admin.StatsHour) int64 { return h.Bounced }),
			}}},
		{Heading: "Rejections by reason", Note: "Messages refused, by the mail log's result; temporary failures apart.",
			Chart: Chart{ID: "chart-rejections", Title: "Rejections per hour by reason", Labels: labels, Series: rejections}},
		{Heading: "Spam and viruses", Note: "Messages the spam classifier or the virus scanner found, accepted or refused.",
			Chart: Chart{ID: "chart-filter", Title: "Spam and viruses per hour", Kind: Lines, Labels: labels, Series: []Series{
				series("spam", func(h admin.StatsHour) int64 { return h.Spam }),
				series("virus", func(h admin.StatsHour) int64 { return h.Virus }),
			}}},
		{Heading: "Queue now", Note: "Recipients in the outbound queue by state; its past size is not recorded.",
			Chart: Chart{ID: "chart-queue", Title: "Outbound queue now", Labels: []string{"ready", "deferred", "held"},
				Series: []Series{{Name: "recipients", Values: []int64{q.Ready, q.Deferred, q.Held}}}}},
		{Heading: "Campaign opens and clicks", Note: "Every campaign; machines are privacy proxies and link scanners.",
			Chart: Chart{ID: "chart-engagement", Title: "Campaign opens and clicks per hour", Labels: labels, Series: []Series{
				series("opens, people", func(h admin.StatsHour) int64 { return h.Campaign.Opens.Human }),
				series("opens, machines", func(h admin.StatsHour) int64 { return h.Campaign.Opens.Machine }),
				series("clicks, people", func(h admin.StatsHour) int64 { return h.Campaign.Clicks.Human }),
				series("clicks, machines", func(h admin.StatsHour) int64 { return h.Campaign.Clicks.Machine }),
			}}},
		{Heading: "Campaign deliveries and feedback", Note: "Every campaign's messages delivered, and what came back.",
			Chart: Chart{ID: "chart-campaign-mail", Title: "Campaign deliveries and feedback per hour", Kind: Lines, Labels: labels,
				Series: []Series{
					series("delivered", func(h admin.StatsHour) int64 { return h.Campaign.Delivered }),
					series("bounces", func(h admin.StatsHour) int64 { return h.Campaign.Bounces }),
					series("unsubscribes", func(h admin.StatsHour) int64 { return h.Campaign.Unsubscribes }),
					series("complaints", func(h admin.StatsHour) int64 { return h.Campaign.Complaints }),
				}}},
	}
}

// hourLabels are the x labels of hours (UTC): the time of day when they lie within a day,
// with the date ("01-02 15h", as `posthorn campaign stats`) otherwise.
func hourLabels(hours []time.Time) []string {
	labels := make([]string, len(hours))
	layout := "15:04"
	if len(hours) > 0 && hours[len(hours)-1].Sub(hours[0]) >= 24*time.Hour {
		layout = "01-02 15h"
	}
	for i, h := range hours {
		labels[i] = h.UTC().Format(layout)
	}
	return labels
}

// Campaigns.

type campaignRow struct {
	Campaign store.Campaign
	Stats    campaign.Stats
}

func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request) {
	list, err := s.mailings.Campaigns(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	rows := make([]campaignRow, 0, len(list))
	for _, c := range list {
		st, err := s.mailings.Stats(r.Context(), c.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		rows = append(rows, campaignRow{Campaign: c, Stats: st})
	}
	s.render(w, r, http.StatusOK, "admin-campaigns", rows)
}

type campaignData struct {
	Campaign store.Campaign
	Stats    campaign.Stats
	Charts   []dashChart
}

func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		s.fail(w, r, "admin-campaign", campaignData{},
			operr.New(operr.NotFound, "campaign", v, err, "unknown campaign %q", v))
		return
	}
	c, err := s.mailings.Campaign(r.Context(), id)
	if err != nil {
		s.fail(w, r, "admin-campaign", campaignData{}, err)
		return
	}
	st, err := s.mailings.Stats(r.Context(), id)
	if err != nil {
		s.fail(w, r, "admin-campaign", campaignData{}, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin-campaign", campaignData{Campaign: c, Stats: st, Charts: campaignCharts(st)})
}

// campaignCharts are the charts of a campaign's hours: every hour from its first with an
// event to its last (the last admin.MaxStatsHours at most), those without one at 0.
func campaignCharts(st campaign.Stats) []dashChart {
	var hours []time.Time
	byHour := map[time.Time]campaign.HourlyEvents{}
	if n := len(st.Hours); n > 0 {
		first, last := st.Hours[0].Hour.UTC(), st.Hours[n-1].Hour.UTC()
		if earliest := last.Add(-(admin.MaxStatsHours - 1) * time.Hour); first.Before(earliest) {
			first = earliest
		}
		for h := first; !h.After(last); h = h.Add(time.Hour) {
			hours = append(hours, h)
		}
		for _, h := range st.Hours {
			byHour[h.Hour.UTC()] = h
		}
	}
	labels := hourLabels(hours)
	series := func(name string, f func(campaign.HourlyEvents) int64) Series {
		v := make([]int64, len(hours))
		for i, h := range hours {
			v[i] = f(byHour[h])
		}
		return Series{Name: name, Values: v}
	}
	return []dashChart{
		{Heading: "Delivered", Note: "Messages a receiving server accepted, per hour.",
			Chart: Chart{ID: "chart-delivered", Title: "Delivered per hour", Labels: labels, Series: []Series{
				series("delivered", func(h campaign.HourlyEvents) int64 { return h.Delivered }),
			}}},
		{Heading: "Opens", Note: "Machines are mail privacy proxies fetching the pixel.",
			Chart: Chart{ID: "chart-opens", Title: "Opens per hour", Labels: labels, Series: []Series{
				series("people", func(h campaign.HourlyEvents) int64 { return h.Opens.Human }),
				series("machines", func(h campaign.HourlyEvents) int64 { return h.Opens.Machine }),
			}}},
		{Heading: "Clicks", Note: "Machines are link scanners, and clicks on the hidden link.",
			Chart: Chart{ID: "chart-clicks", Title: "Clicks per hour", Labels: labels, Series: []Series{
				series("people", func(h campaign.HourlyEvents) int64 { return h.Clicks.Human }),
				series("machines", func(h campaign.HourlyEvents) int64 { return h.Clicks.Machine }),
			}}},
		{Heading: "Bounces, unsubscribes and complaints", Note: "What came back, per hour.",
			Chart: Chart{ID: "chart-feedback", Title: "Bounces, unsubscribes and complaints per hour", Labels: labels,
				Series: []Series{
					series("bounces", func(h campaign.HourlyEvents) int64 { return h.Bounces }),
					series("unsubscribes", func(h campaign.HourlyEvents) int64 { return h.Unsubscribes }),
					series("complaints", func(h campaign.HourlyEvents) int64 { return h.Complaints }),
				}}},
	}
}
