package test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// campaignStatsJSON is the JSON of a campaign's numbers, as `posthorn campaign stats ID --json`
// prints it and GET /api/v1/campaigns/{id}/stats returns it.
type campaignStatsJSON struct {
	CampaignID     int64                `json:"campaign_id"`
	Name           string               `json:"name"`
	Status         string               `json:"status"`
	Recipients     int64                `json:"recipients"`
	Pending        int64                `json:"pending"`
	Skipped        int64                `json:"skipped"`
	Sent           int64                `json:"sent"`
	Queued         int64                `json:"queued"`
	Delivered      int64                `json:"delivered"`
	Deferred       int64                `json:"deferred"`
	Bounced        campaignBounces      `json:"bounced"`
	Opens          campaignEngagement   `json:"opens"`
	Clicks         campaignEngagement   `json:"clicks"`
	HoneypotClicks int64                `json:"honeypot_clicks"`
	Links          []campaignLinkStats  `json:"links"`
	Unsubscribes   int64                `json:"unsubscribes"`
	Complaints     int64                `json:"complaints"`
	Rates          campaignRates        `json:"rates"`
	MachineRates   campaignMachineRates `json:"machine_rates"`
	Hours          []campaignHour       `json:"hours"`
}

type campaignBounces struct {
	Total int64 `json:"total"`
	Hard  int64 `json:"hard"`
	Soft  int64 `json:"soft"`
}

type campaignEngagement struct {
	Total         int64 `json:"total"`
	Human         int64 `json:"human"`
	Machine       int64 `json:"machine"`
	Unique        int64 `json:"unique"`
	UniqueHuman   int64 `json:"unique_human"`
	UniqueMachine int64 `json:"unique_machine"`
}

type campaignLinkStats struct {
	Index  int                `json:"index"`
	URL    string             `json:"url"`
	Clicks campaignEngagement `json:"clicks"`
}

type campaignRates struct {
	Delivery    float64 `json:"delivery"`
	Open        float64 `json:"open"`
	Click       float64 `json:"click"`
	Unsubscribe float64 `json:"unsubscribe"`
	Complaint   float64 `json:"complaint"`
}

type campaignMachineRates struct {
	Open  float64 `json:"open"`
	Click float64 `json:"click"`
}

type campaignSplit struct {
	Human   int64 `json:"human"`
	Machine int64 `json:"machine"`
}

type campaignHour struct {
	Hour   time.Time     `json:"hour"`
	Opens  campaignSplit `json:"opens"`
	Clicks campaignSplit `json:"clicks"`
	// What else the hour holds: deliveries and feedback.
	Delivered    int64 `json:"delivered"`
	Bounces      int64 `json:"bounces"`
	Unsubscribes int64 `json:"unsubscribes"`
	Complaints   int64 `json:"complaints"`
}

// campaignStats reads campaign id's numbers as `posthorn campaign stats ID --json` prints them
// (the end-to-end test checks the final numbers through the JSON API, apiStats).
func campaignStats(t *testing.T, s *Server, id int64) campaignStatsJSON {
	t.Helper()
	return decodeCampaignStats(t, "campaign stats --json", s.MustCLI("", "campaign", "stats", strconv.FormatInt(id, 10), "--json"))
}

// decodeCampaignStats decodes the stats JSON of the CLI and the API, refusing fields the
// struct does not know.
func decodeCampaignStats(t *testing.T, what, out string) campaignStatsJSON {
	t.Helper()
	var st campaignStatsJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
	return st
}

// suppressions reads the suppression ledger: the reason of each address.
func suppressions(t *testing.T, s *Server) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s.MustCLI("", "suppression", "list")), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			out[f[0]] = f[1]
		}
	}
	return out
}

// subscriptionStatus reads the status of each subscriber of list.
func subscriptionStatus(t *testing.T, s *Server, list string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s.MustCLI("", "subscriber", "list", "--list", list)), "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			out[f[0]] = f[1]
		}
	}
	return out
}

// engagementTally counts the opens or clicks a test made, as the stats should count them.
type engagementTally struct {
	human, machine            int64
	who, whoHuman, whoMachine map[string]bool
}

func newEngagementTally() *engagementTally {
	return &engagementTally{who: map[string]bool{}, whoHuman: map[string]bool{}, whoMachine: map[string]bool{}}
}

func (e *engagementTally) add(who string, machine bool) {
	e.who[who] = true
	if machine {
		e.machine++
		e.whoMachine[who] = true
	} else {
		e.human++
		e.whoHuman[who] = true
	}
}

func (e *engagementTally) want() campaignEngagement {
	return campaignEngagement{Total: e.human + e.machine, Human: e.human, Machine: e.machine,
		Unique: int64(len(e.who)), UniqueHuman: int64(len(e.whoHuman)), UniqueMachine: int64(len(e.whoMachine))}
}

// campaignTally is what a test did to a campaign's messages: opens, clicks (all, per link, and
// of the honeypot, link 0).
type campaignTally struct {
	opens, clicks *engagementTally
	links         map[int]*engagementTally
	honeypot      int64
}

func newCampaignTally() *campaignTally {
	return &campaignTally{opens: newEngagementTally(), clicks: newEngagementTally(), links: map[int]*engagementTally{}}
}

func (c *campaignTally) open(who string, machine bool) { c.opens.add(who, machine) }

func (c *campaignTally) click(who string, link int, machine bool) {
	c.clicks.add(who, machine)
	if link == 0 {
		c.honeypot++
		return
	}
	if c.links[link] == nil {
		c.links[link] = newEngagementTally()
	}
	c.links[link].add(who, machine)
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fraction is n/d, 0 when d is 0, as the stats compute their rates.
func fraction(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}
