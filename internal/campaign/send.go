package campaign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/audit"
	"posthorn/internal/campaign/render"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Sender sends campaigns: it starts them (the check, then the send ledger), makes test sends,
// and runs the loop that walks the ledger of every running campaign (send_loop.go).
type Sender struct {
	Service *Service
	Outbox  *Outbox
	// PublicURL is the https base of every link ([campaign] public_url); "" refuses to start
	// a campaign, since every message carries an unsubscribe link.
	PublicURL string
	Logger    *slog.Logger

	// Workers is the number of messages rendered and committed at once (the rendered messages
	// in memory). Default: 4.
	Workers int
	// Batch is the number of ledger rows read at a time. Default: 64.
	Batch int
	// Poll is how often the loop looks for campaigns to send when there is none. Default: 1s.
	Poll time.Duration
	// Wait sleeps for d or until ctx ends; the rate cap waits through it, so a test can run
	// it on a clock of its own (with Service.Now). Default: a timer.
	Wait func(ctx context.Context, d time.Duration) error

	wakeOnce sync.Once
	wake     chan struct{}
}

func (s *Sender) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// compiled is a campaign ready to render: its templates, sender and lists.
type compiled struct {
	campaign store.Campaign
	render   *render.Campaign
	from     sender
	lists    map[int64]string // the campaign's lists by id
	names    []string         // their names, in the campaign's order
}

// compileOptions vary a compile for test sends.
type compileOptions struct {
	subjectPrefix string
	noTracking    bool
	// keepLinks stores the link table (at start) and the links found while rendering.
	keepLinks bool
}

// compile parses campaign c's content with the link table stored for it, so that link indexes
// stay those of the first start after any restart.
func (s *Sender) compile(ctx context.Context, c store.Campaign, opts compileOptions) (*compiled, error) {
	from, err := parseSender("from", c.From)
	if err != nil {
		return nil, err
	}
	comp := &compiled{campaign: c, from: from, lists: map[int64]string{}}
	for _, id := range c.ListIDs {
		l, err := s.Service.Store.GetListByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		comp.lists[id] = l.Name
		comp.names = append(comp.names, l.Name)
	}
	if len(comp.names) == 0 {
		return nil, operr.New(operr.Invalid, "list", "", nil, "campaign %d has no list left", c.ID)
	}
	content := render.Content{
		Campaign:   c.Name,
		Subject:    opts.subjectPrefix + c.Subject,
		HTML:       c.HTML,
		Text:       c.Text,
		Tracking:   c.Tracking && !opts.noTracking,
		From:       from.Address,
		FromName:   from.Name,
		ListID:     render.ListID(comp.names[0], from.Address.Domain),
		ListName:   comp.names[0],
		FeedbackID: render.FeedbackID(strconv.FormatInt(c.ID, 10), comp.names[0], from.Address.Domain),
		Now:        s.Service.now,
	}
	if c.ReplyTo != "" {
		if content.ReplyTo, err = address.Parse(c.ReplyTo); err != nil {
			return nil, fmt.Errorf("reply-to of campaign %d: %w", c.ID, err)
		}
	}
	var table *linkTable
	if opts.keepLinks {
		if table, err = loadLinks(ctx, s.Service.Store, c.ID); err != nil {
			return nil, err
		}
		content.Links = table.urls[1:]
		content.NewLink = func(idx int, target string) error { return table.add(ctx, idx, target) }
	}
	if comp.render, err = render.Compile(content); err != nil {
		return nil, operr.New(operr.Invalid, "template", "", err, "campaign %d: %v", c.ID, err)
	}
	if table != nil {
		if err := table.keep(ctx, comp.render.Targets()); err != nil {
			return nil, err
		}
	}
	return comp, nil
}

// linkTable is a campaign's stored links: urls[i] has click index i (0, the honeypot, has no
// stored target).
type linkTable struct {
	store    store.CampaignStore
	campaign int64
	mu       sync.Mutex
	urls     []string
}

// loadLinks reads campaign campaignID's stored link table.
func loadLinks(ctx context.Context, st store.CampaignStore, campaignID int64) (*linkTable, error) {
	links, err := st.CampaignLinks(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	t := &linkTable{store: st, campaign: campaignID, urls: []string{""}}
	for _, l := range links {
		if l.Index <= 0 {
			continue
		}
		for len(t.urls) <= l.Index {
			t.urls = append(t.urls, "")
		}
		t.urls[l.Index] = l.URL
	}
	return t, nil
}

// keep stores the table of a fresh compile when it has links the stored one lacks.
func (t *linkTable) keep(ctx context.Context, targets []string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(targets)+1 <= len(t.urls) {
		return nil
	}
	t.urls = append([]string{""}, targets...)
	return t.store.SetCampaignLinks(ctx, t.campaign, t.urls)
}

// add stores a link found while rendering (render.Content.NewLink).
func (t *linkTable) add(ctx context.Context, idx int, target string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.urls) <= idx {
		t.urls = append(t.urls, "")
	}
	t.urls[idx] = target
	return t.store.SetCampaignLinks(ctx, t.campaign, t.urls)
}

// sampleLimit is the page size of the audience walk of the check.
const sampleLimit = 500

// check renders the campaign for one confirmed subscriber of each attribute shape of its
// audience (render.ShapeOf), streaming the audience once, page by page.
func (s *Sender) check(ctx context.Context, comp *compiled) error {
	seen := map[string]bool{}
	var samples []render.Recipient
	for _, listID := range comp.campaign.ListIDs {
		name, ok := comp.lists[listID]
		if !ok {
			continue
		}
		for after := int64(0); ; {
			page, err := s.Service.Store.ListSubscribers(ctx, store.SubscriberQuery{ListID: listID, AfterID: after, Limit: sampleLimit})
			if err != nil {
				return fmt.Errorf("audience of campaign %d: %w", comp.campaign.ID, err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				after = e.ID
				if e.Subscription.Status != store.StatusConfirmed {
					continue
				}
				shape := render.ShapeOf(e.Attributes)
				if seen[shape] {
					continue
				}
				seen[shape] = true
				a, err := address.Parse(e.Address)
				if err != nil {
					continue // not mailable: FillRecipients cannot have taken it either
				}
				samples = append(samples, render.Recipient{Address: a, Name: e.Name, Attributes: e.Attributes, Lists: []string{name}})
			}
		}
	}
	if err := render.Check(comp.render, slices.Values(samples)); err != nil {
		var ce *render.CheckError
		if errors.As(err, &ce) {
			return operr.New(operr.Invalid, ce.Field, ce.Address, err, "campaign %d not started: %v", comp.campaign.ID, err)
		}
		return fmt.Errorf("campaign %d not started: %w", comp.campaign.ID, err)
	}
	return nil
}

// prepare is what Start and Schedule check of a draft: a public URL for its links, content
// that compiles and renders for every shape of the audience.
func (s *Sender) prepare(ctx context.Context, c store.Campaign) error {
	if s.PublicURL == "" {
		return operr.New(operr.Invalid, "public_url", "", nil,
			"campaign %d not started: [campaign] public_url is required (every message has an unsubscribe link)", c.ID)
	}
	comp, err := s.compile(ctx, c, compileOptions{keepLinks: true})
	if err != nil {
		return err
	}
	return s.check(ctx, comp)
}

// Start checks a draft (or scheduled) campaign, builds its send ledger and sets it running;
// the loop sends it. A campaign that fails the check stays as it was and nothing is queued.
func (s *Sender) Start(ctx context.Context, id int64) (recipients int64, err error) {
	c, err := s.Service.Campaign(ctx, id)
	if err != nil {
		return 0, err
	}
	if c.Status != store.CampaignDraft && c.Status != store.CampaignScheduled {
		return 0, operr.New(operr.Invalid, "status", string(c.Status), nil, "campaign %d is %s: want draft or scheduled", id, c.Status)
	}
	if err := s.prepare(ctx, c); err != nil {
		return 0, err
	}
	n, err := s.Service.Store.FillRecipients(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("send ledger of campaign %d: %w", id, err)
	}
	if err := s.Service.setStatus(ctx, id, store.CampaignRunning, store.CampaignDraft, store.CampaignScheduled); err != nil {
		return 0, err
	}
	s.Wake()
	return n, s.Service.record(ctx, "campaign.start", campaignTarget(id), audit.Details{"recipients": n})
}

// Schedule checks a draft campaign now and schedules it for at; the loop starts it then (and
// checks it again against the audience of that time).
func (s *Sender) Schedule(ctx context.Context, id int64, at time.Time) error {
	c, err := s.Service.Campaign(ctx, id)
	if err != nil {
		return err
	}
	if c.Status != store.CampaignDraft {
		return operr.New(operr.Invalid, "status", string(c.Status), nil, "campaign %d is %s: want draft", id, c.Status)
	}
	if err := s.prepare(ctx, c); err != nil {
		return err
	}
	if err := s.Service.schedule(ctx, c, at); err != nil {
		return err
	}
	return s.Service.record(ctx, "campaign.schedule", campaignTarget(id), audit.Details{"at": at.UTC().Format(time.RFC3339)})
}

// TestResult is the outcome of a test send to one address.
type TestResult struct {
	Address string
	Sent    bool
	Reason  string // why not sent: suppressed, unknown local address
}

// TestSend sends campaign id to each address, as its subscriber record (or, for an address
// that is none, the first confirmed subscriber's name and attributes) would receive it, with
// "[test] " before the subject. Test sends are not in the ledger and not counted: their links
// are not tracked. A suppressed address gets nothing.
func (s *Sender) TestSend(ctx context.Context, id int64, addresses []string) ([]TestResult, error) {
	c, err := s.Service.Campaign(ctx, id)
	if err != nil {
		return nil, err
	}
	if s.PublicURL == "" {
		return nil, operr.New(operr.Invalid, "public_url", "", nil, "[campaign] public_url is required (every message has an unsubscribe link)")
	}
	rcpts := make([]address.Address, len(addresses))
	for i, a := range addresses {
		if rcpts[i], err = address.Parse(a); err != nil {
			return nil, operr.New(operr.Invalid, "address", a, err, "%v", err)
		}
	}
	comp, err := s.compile(ctx, c, compileOptions{subjectPrefix: "[test] ", noTracking: true})
	if err != nil {
		return nil, err
	}
	signer, err := s.Service.Signer(ctx)
	if err != nil {
		return nil, err
	}
	sample, err := s.sampleSubscriber(ctx, c)
	if err != nil {
		return nil, err
	}
	var out []TestResult
	var buf bytes.Buffer
	for _, rcpt := range rcpts {
		res := TestResult{Address: rcpt.String()}
		if sup, ok, err := s.Service.Store.IsSuppressed(ctx, rcpt.String(), s.Service.now()); err != nil {
			return out, err
		} else if ok {
			res.Reason = "suppressed (" + string(sup.Reason) + ")"
			out = append(out, res)
			continue
		}
		r := render.Recipient{Address: rcpt, Name: sample.Name, Attributes: sample.Attributes, Lists: comp.names}
		if sub, err := s.Service.Store.GetSubscriber(ctx, rcpt.String()); err == nil {
			r.Name, r.Attributes = sub.Name, sub.Attributes
		} else if !errors.Is(err, store.ErrNotFound) {
			return out, err
		}
		links := Links{Signer: signer, Base: s.PublicURL, Domain: comp.from.Address.Domain, Campaign: c.ID}
		buf.Reset()
		if err := comp.render.Render(&buf, r, links); err != nil {
			return out, operr.New(operr.Invalid, "template", rcpt.String(), err, "test send to %s: %v", rcpt, err)
		}
		_, err := s.Outbox.Send(ctx, Mail{Sender: links.BounceAddress(), Recipient: rcpt, SignDomain: comp.from.Address.Domain,
			Message: buf.Bytes(), Priority: store.PriorityNormal})
		if errors.Is(err, ErrUnknownRecipient) {
			res.Reason = "no such local recipient"
			out = append(out, res)
			continue
		}
		if err != nil {
			return out, fmt.Errorf("test send to %s: %w", rcpt, err)
		}
		res.Sent = true
		out = append(out, res)
	}
	sent := []string{}
	for _, r := range out {
		if r.Sent {
			sent = append(sent, r.Address)
		}
	}
	return out, s.Service.record(ctx, "campaign.test", campaignTarget(id), audit.Details{"sent_to": sent, "asked": len(addresses)})
}

// sampleSubscriber is the first confirmed subscriber of the campaign's lists (zero if none).
func (s *Sender) sampleSubscriber(ctx context.Context, c store.Campaign) (store.Subscriber, error) {
	for _, listID := range c.ListIDs {
		for after := int64(0); ; {
			page, err := s.Service.Store.ListSubscribers(ctx, store.SubscriberQuery{ListID: listID, AfterID: after, Limit: sampleLimit})
			if err != nil {
				return store.Subscriber{}, err
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				if e.Subscription.Status == store.StatusConfirmed {
					return e.Subscriber, nil
				}
				after = e.ID
			}
		}
	}
	return store.Subscriber{}, nil
}

// statusLine is a campaign's status for people: "running since ...", "scheduled for ...".
func StatusLine(c store.Campaign) string {
	var b strings.Builder
	b.WriteString(string(c.Status))
	switch {
	case c.Status == store.CampaignScheduled && !c.ScheduledAt.IsZero():
		b.WriteString(" for " + c.ScheduledAt.UTC().Format(time.RFC3339))
	case (c.Status == store.CampaignFinished || c.Status == store.CampaignCancelled) && !c.FinishedAt.IsZero():
		b.WriteString(" at " + c.FinishedAt.UTC().Format(time.RFC3339))
	case !c.StartedAt.IsZero():
		b.WriteString(", started " + c.StartedAt.UTC().Format(time.RFC3339))
	}
	return b.String()
}
