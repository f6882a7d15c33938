package campaign

import (
	"context"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	neturl "net/url"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/campaign/machine"
	"posthorn/internal/campaign/render"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// linkReload is how soon a campaign's link table is read again when a click names a link
// the cached table lacks (a link the sender added since, or a forged token).
const linkReload = time.Second

// Click records a click of a tracked link and returns the URL to redirect to: the one the
// token was signed for, from the campaign's link table. Every failure to verify is
// ErrUnknownToken, and then there is no URL.
func (t *Tracker) Click(ctx context.Context, tok string, req TrackRequest) (string, error) {
	signer, err := t.signer(ctx)
	if err != nil {
		return "", err
	}
	now := t.svc.now()
	var camp *cachedCampaign
	click, url, err := signer.VerifyClick(tok, func(campaignID, link int64) (string, error) {
		c, err := t.campaigns.get(ctx, t.svc.Store, campaignID, now)
		if err != nil {
			return "", err
		}
		camp = c
		if link == render.HoneypotLink {
			// The honeypot's target is the recipient's view URL (render's hidden link).
			rcpt, ok := clickRecipient(tok)
			if !ok {
				return "", token.ErrInvalid
			}
			return t.viewURL(signer, token.Recipient{Campaign: campaignID, Recipient: rcpt}), nil
		}
		if u, ok := c.links[int(link)]; ok {
			return u, nil
		}
		if now.Sub(c.read) < linkReload {
			return "", ErrUnknownToken
		}
		if c, err = t.campaigns.load(ctx, t.svc.Store, campaignID, now); err != nil {
			return "", err
		}
		camp = c
		if u, ok := c.links[int(link)]; ok {
			return u, nil
		}
		return "", ErrUnknownToken
	})
	if errors.Is(err, token.ErrInvalid) || errors.Is(err, ErrUnknownToken) {
		return "", ErrUnknownToken
	} else if err != nil {
		return "", err
	}
	if !redirectable(url) {
		return "", ErrUnknownToken
	}
	tg, err := t.lookup(ctx, token.Recipient{Campaign: click.Campaign, Recipient: click.Recipient})
	if err != nil {
		return "", err
	}
	ev := machine.Event{Kind: machine.Click, At: now, Method: req.Method, UserAgent: req.UserAgent,
		IP: parseIP(req.RemoteIP), Link: click.Link, Honeypot: click.Link == render.HoneypotLink,
		Links: len(camp.links)}
	if click.Recipient != 0 {
		switch tg.recipient.State {
		case store.RecipientQueued, store.RecipientDelivered:
			ev.DeliveredAt = tg.recipient.UpdatedAt
		}
		ev.OtherClicks = t.clicks.add(token.Recipient{Campaign: click.Campaign, Recipient: click.Recipient}, click.Link, now)
	}
	e := t.event(tg, store.EventClick, req, t.classifier.Classify(ev), now)
	e.LinkIndex = int(click.Link)
	if err := t.events.add(ctx, e); err != nil {
		return "", err
	}
	return url, nil
}

// redirectable reports whether a link's target is an absolute http or https URL, the only
// kind render tracks: a link table holding anything else (javascript:, data:) is never
// redirected to.
func redirectable(target string) bool {
	u, err := neturl.Parse(target)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// viewURL is the view-in-browser URL of r, as Links gives it.
func (t *Tracker) viewURL(signer token.Signer, r token.Recipient) string {
	return Links{Signer: signer, Base: t.publicURL, Campaign: r.Campaign, Recipient: r.Recipient}.ViewURL()
}

// tokenEncoding is package token's text form: RFC 4648 base32, lower-cased, no padding.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// clickRecipient reads the recipient field of a click token (kind, campaign, recipient, link
// as varints, then the MAC) without verifying it: only to build the honeypot's target, which
// the MAC then checks. The layout is token's documented format.
func clickRecipient(tok string) (int64, bool) {
	if len(tok) > 128 {
		return 0, false
	}
	raw, err := tokenEncoding.DecodeString(tok)
	if err != nil || len(raw) < 1+token.MACLen || token.Kind(raw[0]) != token.KindClick {
		return 0, false
	}
	rest := raw[1 : len(raw)-token.MACLen]
	var fields [2]uint64
	for i := range fields {
		v, n := binary.Uvarint(rest)
		if n <= 0 || v > math.MaxInt64 {
			return 0, false
		}
		fields[i], rest = v, rest[n:]
	}
	return int64(fields[1]), true
}

// ViewPage is a campaign message as a browser shows it.
type ViewPage struct {
	Subject string
	HTML    []byte // nil when the campaign has only text
	Text    []byte
}

// View renders the message of a view-in-browser token, for its recipient, without tracking.
func (t *Tracker) View(ctx context.Context, tok string) (ViewPage, error) {
	signer, err := t.signer(ctx)
	if err != nil {
		return ViewPage{}, err
	}
	r, err := signer.VerifyView(tok)
	if err != nil {
		return ViewPage{}, ErrUnknownToken
	}
	tg, err := t.lookup(ctx, r)
	if err != nil {
		return ViewPage{}, err
	}
	if tg.campaign.Kind == store.CampaignTransactional {
		return ViewPage{}, ErrUnknownToken // its data is not kept: a send has no page to view
	}
	compiled, lists, err := t.compiled(ctx, tg.campaign)
	if err != nil {
		return ViewPage{}, err
	}
	var rcpt render.Recipient
	if r.Recipient != 0 {
		rcpt = render.Recipient{Name: tg.recipient.Name, Attributes: tg.recipient.Attributes, Lists: lists}
		if a, err := address.Parse(tg.recipient.Address); err == nil {
			rcpt.Address = a
		}
	}
	from, _ := address.Parse(tg.campaign.From)
	links := Links{Signer: signer, Base: t.publicURL, Domain: from.Domain, Campaign: r.Campaign,
		Recipient: r.Recipient, Subscriber: tg.recipient.SubscriberID}
	parts, err := compiled.RenderParts(rcpt, links)
	if err != nil {
		return ViewPage{}, fmt.Errorf("render campaign %d for the browser: %w", r.Campaign, err)
	}
	return ViewPage{Subject: parts.Subject, HTML: parts.HTML, Text: parts.Text}, nil
}

// compiled returns the campaign's templates compiled for the browser (tracking off) and the
// names of its lists, once per cached campaign. The campaign's own subject and bodies are
// used; where they are empty, its template's.
func (t *Tracker) compiled(ctx context.Context, c *cachedCampaign) (*render.Campaign, []string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.view != nil || c.viewErr != nil {
		return c.view, c.lists, c.viewErr
	}
	content := render.Content{Campaign: c.Name, Subject: c.Subject, HTML: c.HTML, Text: c.Text, Now: t.svc.now}
	if c.TemplateID != 0 && c.Subject == "" && c.HTML == "" && c.Text == "" {
		tpl, err := t.svc.Store.GetTemplateByID(ctx, c.TemplateID)
		if err != nil {
			return nil, nil, unknown("campaign template", err)
		}
		content.Subject, content.HTML, content.Text = tpl.Subject, tpl.HTML, tpl.Text
	}
	from, err := address.Parse(c.From)
	if err != nil {
		c.viewErr = fmt.Errorf("campaign %d from %q: %w", c.ID, c.From, err)
		return nil, nil, c.viewErr
	}
	content.From = from
	var lists []string
	for _, id := range c.ListIDs {
		l, err := t.svc.Store.GetListByID(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("list %d: %w", id, err)
		}
		if err == nil {
			lists = append(lists, l.Name)
		}
	}
	compiled, err := render.Compile(content)
	if err != nil {
		c.viewErr = fmt.Errorf("compile campaign %d: %w", c.ID, err)
		return nil, nil, c.viewErr
	}
	c.view, c.lists = compiled, lists
	return compiled, lists, nil
}
