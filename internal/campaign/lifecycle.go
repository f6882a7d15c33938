package campaign

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/audit"
	"posthorn/internal/campaign/render"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// TemplateInput is a template to add or replace: Go templates for the subject, the HTML and the
// text body (see package render); Subject and one of HTML or Text are required.
type TemplateInput struct {
	Name    string
	Subject string
	HTML    string
	Text    string
}

// checkContent compiles a subject and bodies, so that a syntax error is refused when it is
// saved rather than when the campaign starts.
func checkContent(subject, html, text string) error {
	if subject == "" {
		return operr.New(operr.Invalid, "subject", "", nil, "a subject is required")
	}
	if html == "" && text == "" {
		return operr.New(operr.Invalid, "html", "", nil, "an HTML or a text body is required")
	}
	from, _ := address.Parse("check@example.invalid")
	if _, err := render.Compile(render.Content{Subject: subject, HTML: html, Text: text, From: from}); err != nil {
		field := "template"
		var te *render.TemplateError
		if errors.As(err, &te) {
			field = te.Template
		}
		return operr.New(operr.Invalid, field, "", err, "%v", err)
	}
	return nil
}

// CreateTemplate adds a template.
func (s *Service) CreateTemplate(ctx context.Context, in TemplateInput) (store.Template, error) {
	if err := checkLine("template", in.Name, maxListName); err != nil || in.Name == "" {
		if err == nil {
			err = operr.New(operr.Invalid, "template", "", nil, "a template needs a name")
		}
		return store.Template{}, err
	}
	if err := checkContent(in.Subject, in.HTML, in.Text); err != nil {
		return store.Template{}, err
	}
	t, err := s.Store.CreateTemplate(ctx, store.Template{Name: in.Name, Subject: in.Subject, HTML: in.HTML, Text: in.Text})
	if errors.Is(err, store.ErrExists) {
		return store.Template{}, operr.New(operr.Exists, "template", in.Name, err, "template %s already exists", in.Name)
	} else if err != nil {
		return store.Template{}, err
	}
	return t, s.record(ctx, "template.create", t.Name, nil)
}

// Template returns a template by name.
func (s *Service) Template(ctx context.Context, name string) (store.Template, error) {
	t, err := s.Store.GetTemplate(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.Template{}, operr.New(operr.NotFound, "template", name, err, "unknown template %s", name)
	}
	return t, err
}

// Templates returns every template by name.
func (s *Service) Templates(ctx context.Context) ([]store.Template, error) {
	return s.Store.ListTemplates(ctx)
}

// UpdateTemplate replaces the subject and bodies of the template in.Name. Campaigns created
// from it keep the copy they took.
func (s *Service) UpdateTemplate(ctx context.Context, in TemplateInput) (store.Template, error) {
	t, err := s.Template(ctx, in.Name)
	if err != nil {
		return store.Template{}, err
	}
	if err := checkContent(in.Subject, in.HTML, in.Text); err != nil {
		return store.Template{}, err
	}
	t.Subject, t.HTML, t.Text = in.Subject, in.HTML, in.Text
	t, err = s.Store.UpdateTemplate(ctx, t)
	if err != nil {
		return store.Template{}, err
	}
	return t, s.record(ctx, "template.update", t.Name, nil)
}

// DeleteTemplate deletes a template by name.
func (s *Service) DeleteTemplate(ctx context.Context, name string) error {
	t, err := s.Template(ctx, name)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteTemplate(ctx, t.ID); err != nil {
		return err
	}
	return s.record(ctx, "template.delete", t.Name, nil)
}

// CampaignInput is a campaign to create. Its content is Template's (copied when the campaign
// is created) or its own Subject, HTML and Text.
type CampaignInput struct {
	Name     string
	Template string
	Subject  string
	HTML     string
	Text     string
	// From is the sender, "news@example.org" or "News <news@example.org>", on a local domain.
	From    string
	ReplyTo string
	Lists   []string
	// RatePerMinute caps the campaign's messages per minute; 0: no cap of its own.
	RatePerMinute int
	Tracking      bool
	Anonymous     bool
}

// domainStore is the part of the store that knows the local domains.
type domainStore interface {
	GetDomain(ctx context.Context, name string) (store.Domain, error)
}

// Sender is a campaign's From, parsed: the address and the display name.
type sender struct {
	Name    string
	Address address.Address
}

// parseSender parses "addr" or "Name <addr>" (RFC 5322 §3.4).
func parseSender(field, s string) (sender, error) {
	bad := func(err error) (sender, error) {
		return sender{}, operr.New(operr.Invalid, field, s, err, "%s %q: want local@domain or Name <local@domain>", field, s)
	}
	pa, err := mail.ParseAddress(s)
	if err != nil {
		return bad(err)
	}
	a, err := address.Parse(pa.Address)
	if err != nil {
		return bad(err)
	}
	if err := CheckName(pa.Name); err != nil {
		return bad(err)
	}
	return sender{Name: pa.Name, Address: a}, nil
}

// String is the form stored in the campaign.
func (f sender) String() string {
	if f.Name == "" {
		return f.Address.String()
	}
	return (&mail.Address{Name: f.Name, Address: f.Address.String()}).String()
}

// CreateCampaign adds a draft campaign. The From address must be on a local domain, whose DKIM
// keys sign its messages and whose MX takes their bounces.
func (s *Service) CreateCampaign(ctx context.Context, in CampaignInput) (store.Campaign, error) {
	c, err := s.campaignOf(ctx, in)
	if err != nil {
		return store.Campaign{}, err
	}
	created, err := s.Store.CreateCampaign(ctx, c)
	if err != nil {
		return store.Campaign{}, err
	}
	return created, s.record(ctx, "campaign.create", campaignTarget(created.ID), campaignDetails(created, in))
}

// campaignDetails are what the audit log keeps of a campaign created or updated from in.
func campaignDetails(c store.Campaign, in CampaignInput) audit.Details {
	d := audit.Details{"name": c.Name, "from": c.From, "lists": in.Lists}
	if in.Template != "" {
		d["template"] = in.Template
	}
	return d
}

// campaignOf checks in and returns the campaign it describes, not yet stored.
func (s *Service) campaignOf(ctx context.Context, in CampaignInput) (store.Campaign, error) {
	c := store.Campaign{Name: in.Name, RatePerMinute: in.RatePerMinute, Tracking: in.Tracking, Anonymous: in.Anonymous}
	if in.Name == "" {
		return store.Campaign{}, operr.New(operr.Invalid, "name", "", nil, "a campaign needs a name")
	}
	if err := checkLine("name", in.Name, maxListName); err != nil {
		return store.Campaign{}, err
	}
	if in.RatePerMinute < 0 {
		return store.Campaign{}, operr.New(operr.Invalid, "rate", fmt.Sprint(in.RatePerMinute), nil, "rate %d: want messages per minute, 0 for no cap", in.RatePerMinute)
	}
	from, err := parseSender("from", in.From)
	if err != nil {
		return store.Campaign{}, err
	}
	if err := s.checkLocal(ctx, from.Address); err != nil {
		return store.Campaign{}, err
	}
	c.From = from.String()
	if in.ReplyTo != "" {
		rt, err := parseSender("reply_to", in.ReplyTo)
		if err != nil {
			return store.Campaign{}, err
		}
		c.ReplyTo = rt.Address.String()
	}
	if len(in.Lists) == 0 {
		return store.Campaign{}, operr.New(operr.Invalid, "list", "", nil, "a campaign needs a list")
	}
	for _, name := range in.Lists {
		l, err := s.list(ctx, name)
		if err != nil {
			return store.Campaign{}, err
		}
		if !slices.Contains(c.ListIDs, l.ID) {
			c.ListIDs = append(c.ListIDs, l.ID)
		}
	}
	switch {
	case in.Template != "" && (in.Subject != "" || in.HTML != "" || in.Text != ""):
		return store.Campaign{}, operr.New(operr.Invalid, "template", in.Template, nil, "give a template or a subject and bodies, not both")
	case in.Template != "":
		t, err := s.Template(ctx, in.Template)
		if err != nil {
			return store.Campaign{}, err
		}
		c.TemplateID, c.Subject, c.HTML, c.Text = t.ID, t.Subject, t.HTML, t.Text
	default:
		if err := checkContent(in.Subject, in.HTML, in.Text); err != nil {
			return store.Campaign{}, err
		}
		c.Subject, c.HTML, c.Text = in.Subject, in.HTML, in.Text
	}
	return c, nil
}

// checkLocal refuses a From address whose domain is not local.
func (s *Service) checkLocal(ctx context.Context, a address.Address) error {
	ds, ok := s.Store.(domainStore)
	if !ok {
		return errors.New("the store knows no local domains")
	}
	_, err := ds.GetDomain(ctx, a.Domain)
	if errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.Invalid, "from", a.String(), err, "from %s: %s is not a local domain", a, a.Domain)
	}
	return err
}

// Campaign returns a campaign by id.
func (s *Service) Campaign(ctx context.Context, id int64) (store.Campaign, error) {
	c, err := s.Store.GetCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Campaign{}, operr.New(operr.NotFound, "campaign", fmt.Sprint(id), err, "unknown campaign %d", id)
	}
	return c, err
}

// Campaigns returns every campaign, newest first.
func (s *Service) Campaigns(ctx context.Context) ([]store.Campaign, error) {
	return s.Store.ListCampaigns(ctx)
}

// ListNames returns the names of a campaign's lists, in its order.
func (s *Service) ListNames(ctx context.Context, c store.Campaign) ([]string, error) {
	names := make([]string, 0, len(c.ListIDs))
	for _, id := range c.ListIDs {
		l, err := s.Store.GetListByID(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue // deleted since: the campaign reaches nobody through it
		}
		if err != nil {
			return nil, err
		}
		names = append(names, l.Name)
	}
	return names, nil
}

// setStatus moves campaign id to status, refusing it (operr.Invalid, field "status") unless the
// campaign is in one of from.
func (s *Service) setStatus(ctx context.Context, id int64, status store.CampaignStatus, from ...store.CampaignStatus) error {
	err := s.Store.SetCampaignStatus(ctx, id, status, s.now(), from...)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return operr.New(operr.NotFound, "campaign", fmt.Sprint(id), err, "unknown campaign %d", id)
	case errors.Is(err, store.ErrConflict):
		c, gerr := s.Campaign(ctx, id)
		if gerr != nil {
			return gerr
		}
		return operr.New(operr.Invalid, "status", string(c.Status), err, "campaign %d is %s: want %s", id, c.Status, joinStatuses(from))
	}
	return err
}

func joinStatuses(ss []store.CampaignStatus) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " or " + parts[len(parts)-1]
}

// Pause stops a running campaign's sending; the sender notices within a second.
func (s *Service) Pause(ctx context.Context, id int64) error {
	return s.moveRecorded(ctx, "campaign.pause", id, store.CampaignPaused, store.CampaignRunning)
}

// Resume sends a paused campaign again from where it stopped.
func (s *Service) Resume(ctx context.Context, id int64) error {
	return s.moveRecorded(ctx, "campaign.resume", id, store.CampaignRunning, store.CampaignPaused)
}

// Cancel ends a campaign that is not finished; what is queued stays queued, nothing more is sent.
func (s *Service) Cancel(ctx context.Context, id int64) error {
	return s.moveRecorded(ctx, "campaign.cancel", id, store.CampaignCancelled,
		store.CampaignDraft, store.CampaignScheduled, store.CampaignRunning, store.CampaignPaused)
}

// Unschedule takes a scheduled campaign back to draft.
func (s *Service) Unschedule(ctx context.Context, id int64) error {
	return s.moveRecorded(ctx, "campaign.unschedule", id, store.CampaignDraft, store.CampaignScheduled)
}

// moveRecorded is setStatus, recorded in the audit log as action once done.
func (s *Service) moveRecorded(ctx context.Context, action string, id int64, status store.CampaignStatus, from ...store.CampaignStatus) error {
	if err := s.setStatus(ctx, id, status, from...); err != nil {
		return err
	}
	return s.record(ctx, action, campaignTarget(id), audit.Details{"status": string(status)})
}

// schedule records the time of a draft campaign and moves it to scheduled.
func (s *Service) schedule(ctx context.Context, c store.Campaign, at time.Time) error {
	c.ScheduledAt = at.UTC()
	if _, err := s.Store.UpdateCampaign(ctx, c); err != nil {
		return err
	}
	return s.setStatus(ctx, c.ID, store.CampaignScheduled, store.CampaignDraft)
}
