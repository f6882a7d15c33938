package campaign

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"posthorn/internal/campaign/render"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Stats are one campaign's numbers, read in one snapshot of the store (CampaignStats), so
// they agree with each other. What each counts:
//
//   - The send ledger (one row per address the campaign is for, its state now): Recipients
//     every row; Pending rows not handed to the queue yet; Skipped rows never sent (the
//     subscriber unsubscribed, was suppressed or deleted before their turn); Queued rows in
//     the queue, not yet delivered nor failed; Delivered rows whose message a receiving server
//     accepted (250); Deferred rows whose last attempt failed temporarily and is retried;
//     Bounced rows whose message bounced (a permanent failure of the queue, or a DSN that
//     says failed), Soft those with a soft bounce (internal/campaign/feedback classifies
//     each bounce from its status: 4.x.x soft, 5.x.x mostly hard), Hard the others.
//     Sent = Queued + Delivered + Deferred + Bounced.Total: every message handed to the queue.
//   - Opens and Clicks (events): Total every event recorded, Human and Machine its two
//     parts (Machine: a mail privacy proxy's fetch of the pixel, a link scanner's click, each
//     with its reason; see internal/campaign/machine). Unique counts distinct named
//     recipients with at least one event, each once; UniqueHuman those with at least one
//     human event, UniqueMachine those with at least one machine event (a recipient with
//     both counts in both, and once in Unique). Anonymous events (those of an anonymous
//     campaign name nobody) count in the totals and never in the unique counts. A click on
//     the hidden honeypot link (HoneypotClicks) is a machine click.
//   - Links: the clicks of each tracked link (index from 1, with its URL), counted as Clicks
//     are; the honeypot is not among them.
//   - Unsubscribes: the unsubscribe events recorded for the campaign (one-click POST, the
//     page's button, the mailto address); Complaints: the complaint events (ARF abuse reports
//     matched to the campaign). Both are raw counts.
//   - Rates, each a fraction (0..1, 0 when the divisor is 0): Delivery = Delivered / Sent;
//     Open = Opens.UniqueHuman / Delivered; Click = Clicks.UniqueHuman / Delivered;
//     Unsubscribe = Unsubscribes / Delivered; Complaint = Complaints / Delivered. Machine
//     events are kept out of them: MachineRates gives Opens.UniqueMachine / Delivered and
//     Clicks.UniqueMachine / Delivered apart.
//   - Hours: the events of each hour (UTC) that has one, in time order: the opens and clicks
//     (every event, human and machine apart), the messages delivered (a receiving server's
//     250), the bounces, unsubscribes and complaints; hours without any are left out.
type Stats struct {
	CampaignID     int64          `json:"campaign_id"`
	Name           string         `json:"name"`
	Status         string         `json:"status"`
	Recipients     int64          `json:"recipients"`
	Pending        int64          `json:"pending"`
	Skipped        int64          `json:"skipped"`
	Sent           int64          `json:"sent"`
	Queued         int64          `json:"queued"`
	Delivered      int64          `json:"delivered"`
	Deferred       int64          `json:"deferred"`
	Bounced        Bounces        `json:"bounced"`
	Opens          Engagement     `json:"opens"`
	Clicks         Engagement     `json:"clicks"`
	HoneypotClicks int64          `json:"honeypot_clicks"`
	Links          []LinkStats    `json:"links"`
	Unsubscribes   int64          `json:"unsubscribes"`
	Complaints     int64          `json:"complaints"`
	Rates          Rates          `json:"rates"`
	MachineRates   MachineRates   `json:"machine_rates"`
	Hours          []HourlyEvents `json:"hours"`
}

// Bounces splits the bounced ledger rows.
type Bounces struct {
	Total int64 `json:"total"`
	Hard  int64 `json:"hard"`
	Soft  int64 `json:"soft"`
}

// Engagement counts opens or clicks (see Stats).
type Engagement struct {
	Total         int64 `json:"total"`
	Human         int64 `json:"human"`
	Machine       int64 `json:"machine"`
	Unique        int64 `json:"unique"`
	UniqueHuman   int64 `json:"unique_human"`
	UniqueMachine int64 `json:"unique_machine"`
}

// LinkStats are the clicks of one tracked link.
type LinkStats struct {
	Index  int        `json:"index"`
	URL    string     `json:"url"`
	Clicks Engagement `json:"clicks"`
}

// Rates are the human rates (see Stats), fractions of 1.
type Rates struct {
	Delivery    float64 `json:"delivery"`
	Open        float64 `json:"open"`
	Click       float64 `json:"click"`
	Unsubscribe float64 `json:"unsubscribe"`
	Complaint   float64 `json:"complaint"`
}

// MachineRates are the machine events' share of the delivered messages, shown apart.
type MachineRates struct {
	Open  float64 `json:"open"`
	Click float64 `json:"click"`
}

// Split is a count of people's events and machines'.
type Split struct {
	Human   int64 `json:"human"`
	Machine int64 `json:"machine"`
}

// Total is the raw count.
func (s Split) Total() int64 { return s.Human + s.Machine }

// HourlyEvents are the events of one hour (see Stats).
type HourlyEvents struct {
	Hour         time.Time `json:"hour"`
	Opens        Split     `json:"opens"`
	Clicks       Split     `json:"clicks"`
	Delivered    int64     `json:"delivered"`
	Bounces      int64     `json:"bounces"`
	Unsubscribes int64     `json:"unsubscribes"`
	Complaints   int64     `json:"complaints"`
}

// Stats returns the numbers of the campaign id; an unknown id is operr.NotFound for "campaign".
func (s *Service) Stats(ctx context.Context, id int64) (Stats, error) {
	c, err := s.Store.GetCampaign(ctx, id)
	if err == nil {
		var raw store.CampaignStats
		raw, err = s.Store.CampaignStats(ctx, id)
		if err == nil {
			return statsOf(c, raw), nil
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		v := strconv.FormatInt(id, 10)
		return Stats{}, operr.New(operr.NotFound, "campaign", v, err, "unknown campaign %s", v)
	}
	return Stats{}, fmt.Errorf("stats of campaign %d: %w", id, err)
}

// statsOf derives the numbers of Stats from the store's counts.
func statsOf(c store.Campaign, raw store.CampaignStats) Stats {
	st := Stats{CampaignID: c.ID, Name: c.Name, Status: string(c.Status), Links: []LinkStats{},
		Hours: []HourlyEvents{}}
	for _, n := range raw.Recipients {
		st.Recipients += n
	}
	st.Pending, st.Skipped = raw.Recipients[store.RecipientPending], raw.Recipients[store.RecipientSkipped]
	st.Queued, st.Delivered = raw.Recipients[store.RecipientQueued], raw.Recipients[store.RecipientDelivered]
	st.Deferred = raw.Recipients[store.RecipientDeferred]
	st.Bounced.Total = raw.Recipients[store.RecipientBounced]
	st.Bounced.Soft = raw.SoftBouncedBy[store.RecipientBounced]
	st.Bounced.Hard = st.Bounced.Total - st.Bounced.Soft
	st.Sent = st.Queued + st.Delivered + st.Deferred + st.Bounced.Total

	st.Opens = engagement(raw.Events[store.EventOpen], raw.UniqueOpens, raw.OpenRecipients)
	st.Clicks = engagement(raw.Events[store.EventClick], raw.UniqueClicks, raw.ClickRecipients)
	for _, l := range raw.Links {
		if l.Index == render.HoneypotLink {
			st.HoneypotClicks = l.Clicks.Total()
			continue
		}
		st.Links = append(st.Links, LinkStats{Index: l.Index, URL: l.URL,
			Clicks: engagement(l.Clicks, l.Unique, l.Recipients)})
	}
	st.Unsubscribes = raw.Events[store.EventUnsubscribe].Total()
	st.Complaints = raw.Events[store.EventComplaint].Total()

	st.Rates = Rates{
		Delivery:    fraction(st.Delivered, st.Sent),
		Open:        fraction(st.Opens.UniqueHuman, st.Delivered),
		Click:       fraction(st.Clicks.UniqueHuman, st.Delivered),
		Unsubscribe: fraction(st.Unsubscribes, st.Delivered),
		Complaint:   fraction(st.Complaints, st.Delivered),
	}
	st.MachineRates = MachineRates{
		Open:  fraction(st.Opens.UniqueMachine, st.Delivered),
		Click: fraction(st.Clicks.UniqueMachine, st.Delivered),
	}
	for _, h := range raw.Hours {
		st.Hours = append(st.Hours, HourlyEvents{Hour: h.Hour.UTC(),
			Opens:     Split{Human: h.Opens.Human, Machine: h.Opens.Machine},
			Clicks:    Split{Human: h.Clicks.Human, Machine: h.Clicks.Machine},
			Delivered: h.Delivered, Bounces: h.Bounces, Unsubscribes: h.Unsubscribes, Complaints: h.Complaints})
	}
	return st
}

func engagement(events, unique store.EventCount, recipients int64) Engagement {
	return Engagement{Total: events.Total(), Human: events.Human, Machine: events.Machine,
		Unique: recipients, UniqueHuman: unique.Human, UniqueMachine: unique.Machine}
}

// fraction is n/d, 0 when d is 0.
func fraction(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}
