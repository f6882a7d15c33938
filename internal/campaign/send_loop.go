package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/campaign/render"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// statusCheckEvery bounds how long a pause or cancel waits for the loop to notice it.
const statusCheckEvery = time.Second

// run is the state of one running campaign in the loop: compiled once, walked in id order.
type run struct {
	comp      *compiled
	signer    token.Signer
	afterID   int64
	bucket    bucket
	notBefore time.Time // after a pass that left rows pending (failed sends): when to retry
}

// Wake makes the loop look for work now (a campaign was started or resumed).
func (s *Sender) Wake() {
	select {
	case s.wakeChan() <- struct{}{}:
	default:
	}
}

func (s *Sender) wakeChan() chan struct{} {
	s.wakeOnce.Do(func() { s.wake = make(chan struct{}, 1) })
	return s.wake
}

func (s *Sender) poll() time.Duration {
	if s.Poll <= 0 {
		return time.Second
	}
	return s.Poll
}

func (s *Sender) wait(ctx context.Context, d time.Duration) error {
	if s.Wait != nil {
		return s.Wait(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run sends campaigns until ctx ends: scheduled ones whose time has come are started, running
// ones are sent a batch at a time each in turn, so several campaigns share the sender and
// each sees its status reread between batches. When ctx ends, Run returns once the messages
// in hand are committed.
func (s *Sender) Run(ctx context.Context) error {
	poll := s.poll()
	active := map[int64]*run{}
	for ctx.Err() == nil {
		busy, err := s.round(ctx, active)
		if err != nil && ctx.Err() == nil {
			s.logger().Error("campaign sender", "err", err)
		}
		if busy {
			continue
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
		case <-s.wakeChan():
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// round starts the scheduled campaigns that are due and sends one batch of each running one;
// busy reports that some campaign has rows to send now.
func (s *Sender) round(ctx context.Context, active map[int64]*run) (busy bool, err error) {
	campaigns, err := s.Service.Store.ListCampaigns(ctx)
	if err != nil {
		return false, err
	}
	running := map[int64]bool{}
	now := s.Service.now()
	for _, c := range campaigns {
		if ctx.Err() != nil {
			return false, nil
		}
		switch {
		case c.Status == store.CampaignScheduled && !c.ScheduledAt.After(now):
			s.startScheduled(ctx, c)
			busy = true
		case c.Status == store.CampaignRunning:
			running[c.ID] = true
			r := active[c.ID]
			if r == nil {
				if r, err = s.newRun(ctx, c); err != nil {
					s.logger().Error("campaign not sent", "campaign", c.ID, "err", err)
					continue
				}
				active[c.ID] = r
			}
			r.bucket.perMinute = c.RatePerMinute
			if time.Now().Before(r.notBefore) {
				continue
			}
			more, err := s.sendBatch(ctx, r)
			if err != nil {
				s.logger().Error("campaign batch", "campaign", c.ID, "err", err)
				r.notBefore = time.Now().Add(s.poll())
				continue
			}
			busy = busy || more
		}
	}
	for id := range active {
		if !running[id] {
			delete(active, id) // paused, cancelled or finished: compiled again when it runs
		}
	}
	return busy, nil
}

// startScheduled starts a campaign whose time has come; one that fails its check goes back
// to draft, with the reason logged.
func (s *Sender) startScheduled(ctx context.Context, c store.Campaign) {
	n, err := s.Start(ctx, c.ID)
	if err == nil {
		s.logger().Info("scheduled campaign started", "campaign", c.ID, "recipients", n)
		return
	}
	s.logger().Error("scheduled campaign not started", "campaign", c.ID, "err", err)
	if uerr := s.Service.Unschedule(ctx, c.ID); uerr != nil {
		s.logger().Error("unschedule campaign", "campaign", c.ID, "err", uerr)
	}
}

func (s *Sender) newRun(ctx context.Context, c store.Campaign) (*run, error) {
	comp, err := s.compile(ctx, c, compileOptions{keepLinks: true})
	if err != nil {
		return nil, err
	}
	signer, err := s.Service.Signer(ctx)
	if err != nil {
		return nil, err
	}
	s.logger().Info("sending campaign", "campaign", c.ID, "name", c.Name, "rate_per_minute", c.RatePerMinute)
	return &run{comp: comp, signer: signer}, nil
}

// sendBatch sends the next batch of r's ledger through the workers. It stops early when the
// campaign is no longer running; at the end of the ledger it finishes the campaign, or starts
// a new pass later when some rows are still pending (their sends failed).
func (s *Sender) sendBatch(ctx context.Context, r *run) (more bool, err error) {
	id := r.comp.campaign.ID
	batch := s.Batch
	if batch <= 0 {
		batch = 64
	}
	rows, err := s.Service.Store.StreamRecipients(ctx, id, r.afterID, batch)
	if err != nil {
		return false, err
	}
	if len(rows) == 0 {
		left, err := s.Service.Store.StreamRecipients(ctx, id, 0, 1)
		if err != nil {
			return false, err
		}
		if len(left) > 0 {
			r.afterID = 0
			r.notBefore = time.Now().Add(s.poll())
			return false, nil
		}
		err = s.Service.Store.SetCampaignStatus(ctx, id, store.CampaignFinished, s.Service.now(), store.CampaignRunning)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			return false, err
		}
		if err == nil {
			s.logger().Info("campaign finished", "campaign", id)
		}
		return false, nil
	}

	workers := s.Workers
	if workers <= 0 {
		workers = 4
	}
	// The messages in hand are finished even when ctx ends: a commit is not cut halfway.
	sendCtx := context.WithoutCancel(ctx)
	jobs := make(chan store.Recipient)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for row := range jobs {
				s.sendOne(sendCtx, r, row, &buf)
			}
		}()
	}
	dispatched := s.dispatch(ctx, r, rows, jobs)
	close(jobs)
	wg.Wait()
	if dispatched > 0 {
		r.afterID = rows[dispatched-1].ID
	}
	return dispatched == len(rows), nil
}

// dispatch hands rows to the workers at the campaign's rate, and returns how many it handed
// before the campaign stopped running or ctx ended.
func (s *Sender) dispatch(ctx context.Context, r *run, rows []store.Recipient, jobs chan<- store.Recipient) int {
	lastCheck := time.Now()
	for i, row := range rows {
		for {
			if ctx.Err() != nil {
				return i
			}
			waited := false
			if d := r.bucket.take(s.Service.now()); d > 0 {
				if s.wait(ctx, min(d, statusCheckEvery)) != nil {
					return i
				}
				waited = true
			}
			if waited || time.Since(lastCheck) >= statusCheckEvery {
				lastCheck = time.Now()
				if !s.stillRunning(ctx, r.comp.campaign.ID) {
					return i
				}
			}
			if !waited {
				break
			}
		}
		jobs <- row
	}
	return len(rows)
}

func (s *Sender) stillRunning(ctx context.Context, id int64) bool {
	c, err := s.Service.Store.GetCampaign(ctx, id)
	if err != nil {
		s.logger().Error("campaign status", "campaign", id, "err", err)
		return false
	}
	return c.Status == store.CampaignRunning
}

// sendOne renders and commits one ledger row. A row that cannot be sent to (no longer
// eligible, a render error, an unknown local address) is skipped with its reason logged; one
// queued already (a restart after a crash) is left alone; other errors leave it pending for
// the next pass.
func (s *Sender) sendOne(ctx context.Context, r *run, row store.Recipient, buf *bytes.Buffer) {
	log := s.logger().With("campaign", r.comp.campaign.ID, "recipient", row.ID, "address", row.Address)
	skip := func(reason string, err error) {
		log.Warn("campaign recipient skipped", "reason", reason, "err", err)
		if serr := s.Service.Store.SetRecipientState(ctx, row.ID, store.RecipientSkipped); serr != nil {
			log.Error("skip campaign recipient", "err", serr)
		}
	}
	if !row.Eligible {
		skip("no longer subscribed, or suppressed", nil)
		return
	}
	rcpt, err := address.Parse(row.Address)
	if err != nil {
		skip("bad address", err)
		return
	}
	c := r.comp.campaign
	lists, err := s.listsOf(ctx, r.comp, row)
	if err != nil {
		log.Error("campaign recipient's lists", "err", err)
		return
	}
	rr := render.Recipient{Address: rcpt, Name: row.Name, Attributes: row.Attributes, Lists: lists,
		Tracking: c.Tracking && row.Tracking}
	links := Links{Signer: r.signer, Base: s.PublicURL, Domain: r.comp.from.Address.Domain, Campaign: c.ID,
		Recipient: row.ID, Subscriber: row.SubscriberID}
	var rl render.Links = links
	if c.Anonymous {
		rl = anonymousLinks{links}
	}
	buf.Reset()
	if err := r.comp.render.Render(buf, rr, rl); err != nil {
		skip("render", err)
		return
	}
	sent, err := s.Outbox.Send(ctx, Mail{Sender: links.BounceAddress(), Recipient: rcpt, SignDomain: r.comp.from.Address.Domain,
		Message: buf.Bytes(), Priority: store.PriorityBulk, CampaignRecipient: row.ID})
	switch {
	case errors.Is(err, store.ErrConflict):
		return // queued before a restart
	case errors.Is(err, ErrUnknownRecipient):
		skip("no such local recipient", err)
		return
	case err != nil:
		log.Error("campaign message not sent", "err", err)
		return
	}
	s.Service.Metrics.messageSent("bulk")
	if sent.Local {
		if err := s.Service.Store.SetRecipientState(ctx, row.ID, store.RecipientDelivered); err != nil {
			log.Error("mark campaign recipient delivered", "err", err)
		}
	}
}

// listsOf names the campaign's lists through which row's subscriber is reached: all of them
// for a campaign to one list, its confirmed subscriptions among them otherwise.
func (s *Sender) listsOf(ctx context.Context, comp *compiled, row store.Recipient) ([]string, error) {
	if len(comp.names) == 1 {
		return comp.names, nil
	}
	subs, err := s.Service.Store.SubscriptionsOf(ctx, row.SubscriberID)
	if err != nil {
		return nil, fmt.Errorf("subscriptions of subscriber %d: %w", row.SubscriberID, err)
	}
	var names []string
	for _, id := range comp.campaign.ListIDs {
		for _, sub := range subs {
			if sub.ListID == id && sub.Status == store.StatusConfirmed && comp.lists[id] != "" {
				names = append(names, comp.lists[id])
			}
		}
	}
	return names, nil
}

// anonymousLinks are the links of a recipient of an anonymous campaign: the tracking links
// (open, click, view) carry recipient 0, so their events name nobody. The unsubscribe and
// preferences links and the VERP address keep the recipient: they act on the person.
type anonymousLinks struct{ Links }

func (l anonymousLinks) anonymous() Links {
	l.Links.Recipient = 0
	return l.Links
}

func (l anonymousLinks) ClickURL(idx int, target string) string {
	return l.anonymous().ClickURL(idx, target)
}
func (l anonymousLinks) OpenURL() string { return l.anonymous().OpenURL() }
func (l anonymousLinks) ViewURL() string { return l.anonymous().ViewURL() }

// bucket is a campaign's rate cap: a token bucket of perMinute tokens a minute holding at most
// one second's worth (at least one), so the messages go out evenly.
type bucket struct {
	perMinute int
	tokens    float64
	last      time.Time
}

// take takes a token at now, or returns how long to wait for one.
func (b *bucket) take(now time.Time) time.Duration {
	if b.perMinute <= 0 {
		return 0
	}
	rate := float64(b.perMinute) / 60 // tokens a second
	burst := math.Max(1, rate)
	if b.last.IsZero() {
		b.tokens, b.last = burst, now
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(burst, b.tokens+elapsed*rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return 0
	}
	return time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
}
