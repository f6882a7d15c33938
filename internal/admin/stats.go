package admin

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The dashboard's window, in hours.
const (
	DefaultStatsHours = 24
	MaxStatsHours     = 720 // 30 days
)

// Stats are the dashboard's numbers: one StatsHour for each hour of the window, oldest first,
// zeros included, and the outbound queue as it is now. The window is made of whole hours
// (UTC): the last one is the hour that holds now, still running. What each counts, from the
// mail log (package maillog: one record per mail event) and the campaign events:
//
//   - In: the messages received (event "received": accepted by the MX or submission), and
//     InCopies the local copies they made (one per mailbox they went to); Out: the outbound
//     deliveries a remote server accepted (event "delivered"), Deferred and Bounced the
//     outbound attempts that failed for now or for good.
//   - Rejected: the messages refused (event "rejected") by reason (the log's result, e.g.
//     "unknown-user", "relay-denied", "spam-reject", "virus"); Reasons lists every reason of
//     the window, the most frequent first, so that charts give each the same place in every
//     hour. TempFailed: the messages answered with a temporary failure (event "tempfail").
//   - Spam and Virus: the events whose filter findings name the spam classifier or a virus
//     (store.MailEventCount), accepted or refused.
//   - Campaign: the campaign events of every campaign (opens and clicks with people's and
//     machines' apart, deliveries, deferrals, bounces, unsubscribes, complaints).
//
// The queue's past size is not recorded anywhere, so Queue is its size now, by state.
type Stats struct {
	Hours   int         `json:"hours"`
	Since   time.Time   `json:"since"`
	Until   time.Time   `json:"until"`
	Series  []StatsHour `json:"series"`
	Reasons []string    `json:"reasons"`
	Totals  StatsHour   `json:"totals"`
	Queue   QueueSize   `json:"queue"`
}

// StatsHour are the counts of one hour (see Stats); in Stats.Totals, of the whole window
// (Hour is then the window's start).
type StatsHour struct {
	Hour       time.Time        `json:"hour"`
	In         int64            `json:"in"`
	InCopies   int64            `json:"in_copies"`
	Out        int64            `json:"out"`
	Deferred   int64            `json:"deferred"`
	Bounced    int64            `json:"bounced"`
	Rejected   map[string]int64 `json:"rejected"`
	TempFailed int64            `json:"tempfailed"`
	Spam       int64            `json:"spam"`
	Virus      int64            `json:"virus"`
	Campaign   CampaignHour     `json:"campaign"`
}

// RejectedTotal is the hour's rejections, every reason together.
func (h StatsHour) RejectedTotal() int64 {
	var n int64
	for _, c := range h.Rejected {
		n += c
	}
	return n
}

// CampaignHour counts the campaign events of one hour, every campaign together.
type CampaignHour struct {
	Opens        campaign.Split `json:"opens"`
	Clicks       campaign.Split `json:"clicks"`
	Delivered    int64          `json:"delivered"`
	Deferred     int64          `json:"deferred"`
	Bounces      int64          `json:"bounces"`
	Unsubscribes int64          `json:"unsubscribes"`
	Complaints   int64          `json:"complaints"`
}

// QueueSize is the outbound queue now: its recipients by state (store.QueuedMessage.State).
type QueueSize struct {
	Total    int64 `json:"total"`
	Ready    int64 `json:"ready"`
	Deferred int64 `json:"deferred"`
	Held     int64 `json:"held"`
}

// ParseStatsHours reads the dashboard's window, in hours, as given for field "hours": "" is
// DefaultStatsHours, anything else a whole number from 1 to MaxStatsHours.
func ParseStatsHours(s string) (int, error) {
	if s == "" {
		return DefaultStatsHours, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, operr.New(operr.Invalid, "hours", s, err, "hours %q: want a whole number from 1 to %d", s, MaxStatsHours)
	}
	return n, checkStatsHours(n)
}

func checkStatsHours(n int) error {
	if n < 1 || n > MaxStatsHours {
		v := strconv.Itoa(n)
		return operr.New(operr.Invalid, "hours", v, nil, "hours %s: want a whole number from 1 to %d", v, MaxStatsHours)
	}
	return nil
}

// Stats returns the dashboard's numbers of the last hours hours before now (1 to
// MaxStatsHours; anything else is invalid for field "hours").
func (a *Admin) Stats(ctx context.Context, hours int, now time.Time) (Stats, error) {
	if err := checkStatsHours(hours); err != nil {
		return Stats{}, err
	}
	ss, ok := a.Store.(store.StatsStore)
	if !ok {
		return Stats{}, &operr.Error{Code: operr.Unsupported, Message: "this store counts no events"}
	}
	qs, err := a.queueStore()
	if err != nil {
		return Stats{}, err
	}
	until := now.UTC().Truncate(time.Hour).Add(time.Hour)
	since := until.Add(-time.Duration(hours) * time.Hour)
	st := Stats{Hours: hours, Since: since, Until: until, Series: make([]StatsHour, hours),
		Totals: StatsHour{Hour: since, Rejected: map[string]int64{}}}
	for i := range st.Series {
		st.Series[i] = StatsHour{Hour: since.Add(time.Duration(i) * time.Hour), Rejected: map[string]int64{}}
	}
	// at is the series' hour of a bucket's start; the store's buckets start at since.
	at := func(start time.Time) (*StatsHour, bool) {
		i := int(start.Sub(since) / time.Hour)
		if i < 0 || i >= len(st.Series) {
			return nil, false
		}
		return &st.Series[i], true
	}

	mail, err := ss.MailEventCounts(ctx, since, until, time.Hour)
	if err != nil {
		return Stats{}, fmt.Errorf("dashboard: %w", err)
	}
	for _, c := range mail {
		if h, ok := at(c.Start); ok {
			addMailCount(h, c)
			addMailCount(&st.Totals, c)
		}
	}
	events, err := ss.CampaignEventCounts(ctx, since, until, time.Hour)
	if err != nil {
		return Stats{}, fmt.Errorf("dashboard: %w", err)
	}
	for _, c := range events {
		if h, ok := at(c.Start); ok {
			addCampaignCount(&h.Campaign, c)
			addCampaignCount(&st.Totals.Campaign, c)
		}
	}
	st.Reasons = make([]string, 0, len(st.Totals.Rejected))
	for r := range st.Totals.Rejected {
		st.Reasons = append(st.Reasons, r)
	}
	slices.SortFunc(st.Reasons, func(x, y string) int {
		return cmp.Or(cmp.Compare(st.Totals.Rejected[y], st.Totals.Rejected[x]), strings.Compare(x, y))
	})

	counts, err := qs.QueueCounts(ctx)
	if err != nil {
		return Stats{}, fmt.Errorf("dashboard: queue: %w", err)
	}
	st.Queue = QueueSize{Ready: counts[store.QueueReady], Deferred: counts[store.QueueDeferred], Held: counts[store.QueueHeld]}
	st.Queue.Total = st.Queue.Ready + st.Queue.Deferred + st.Queue.Held
	return st, nil
}

// addMailCount adds one count of the mail log to h.
func addMailCount(h *StatsHour, c store.MailEventCount) {
	switch c.Event {
	case "received":
		h.In += c.Count
		h.InCopies += c.Mailboxes
	case "delivered":
		h.Out += c.Count
	case "deferred":
		h.Deferred += c.Count
	case "bounced":
		h.Bounced += c.Count
	case "rejected":
		h.Rejected[cmp.Or(c.Result, "other")] += c.Count
	case "tempfail":
		h.TempFailed += c.Count
	}
	h.Spam += c.Spam
	h.Virus += c.Virus
}

// addCampaignCount adds one count of the campaign events to h.
func addCampaignCount(h *CampaignHour, c store.CampaignEventCount) {
	split := func(s *campaign.Split) {
		if c.Machine {
			s.Machine += c.Count
		} else {
			s.Human += c.Count
		}
	}
	switch c.Kind {
	case store.EventOpen:
		split(&h.Opens)
	case store.EventClick:
		split(&h.Clicks)
	case store.EventDelivered:
		h.Delivered += c.Count
	case store.EventDeferred:
		h.Deferred += c.Count
	case store.EventBounce:
		h.Bounces += c.Count
	case store.EventUnsubscribe:
		h.Unsubscribes += c.Count
	case store.EventComplaint:
		h.Complaints += c.Count
	}
}
