package render

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	htemplate "html/template"
	"io"
	"sync"
	ttemplate "text/template"
	"time"

	"posthorn/internal/address"
)

// Content is what Compile needs of a campaign: its templates, whether it tracks, its sender and
// its list, and the link table kept from an earlier Compile.
type Content struct {
	Campaign string // the campaign's name, .Campaign in templates
	Subject  string // text/template, required
	HTML     string // html/template; HTML or Text (or both) required
	Text     string // text/template; empty: made from the rendered HTML

	// Tracking rewrites links and adds the open pixel and the honeypot for recipients whose
	// Recipient.Tracking is set too.
	Tracking bool
	// Links is the link table of an earlier Compile (Targets): Links[i] has index i+1.
	Links []string
	// NewLink, when set, is called (one call at a time) with each index given at render time to
	// a target that is not in the table, before the message that holds it is built.
	NewLink func(idx int, target string) error

	From       address.Address // required
	FromName   string
	ReplyTo    address.Address // zero: no Reply-To
	ListID     string          // RFC 2919 list-id, e.g. "news.example.org" (see ListID); empty: none
	ListName   string          // the List-Id phrase
	FeedbackID string          // see FeedbackID; empty: none
	// Now gives Date and the templates' now. Default: time.Now.
	Now func() time.Time
}

// Recipient is one subscriber as the templates see it.
type Recipient struct {
	Address    address.Address
	Name       string
	Attributes map[string]any // decoded JSON
	Lists      []string       // names of the lists the campaign reaches the subscriber through
	Tracking   bool           // the subscriber consented to tracking (and the mode is not anonymous)
}

// Links gives one recipient's URLs; the caller makes them with signed tokens.
type Links interface {
	UnsubscribeURL() string // https, also the RFC 8058 one-click POST target
	ViewURL() string
	PreferencesURL() string
	ClickURL(idx int, target string) string
	OpenURL() string
}

// MailtoUnsubscriber is implemented by Links that also have an unsubscribe mail address
// (unsubscribe+TOKEN@DOMAIN), listed in List-Unsubscribe after the https URL.
type MailtoUnsubscriber interface {
	UnsubscribeMailto() string
}

// HoneypotLink is the click index of the hidden honeypot link; real links start at 1.
const HoneypotLink = 0

// Template part names, as errors name them.
const (
	PartSubject = "subject"
	PartHTML    = "html"
	PartText    = "text"
)

// Campaign is a compiled campaign. Its methods are safe for concurrent use.
type Campaign struct {
	content Content
	subject *ttemplate.Template // never executed: renderers execute clones
	html    *htemplate.Template
	text    *ttemplate.Template
	now     func() time.Time

	mu      sync.Mutex
	free    []*renderer
	targets []string       // index i+1
	index   map[string]int // target -> index
}

// Compile parses the content's templates and collects the static link targets of its HTML.
// A syntax error is a *TemplateError naming the template and the line.
func Compile(content Content) (*Campaign, error) {
	if content.Subject == "" {
		return nil, errors.New("campaign has no subject")
	}
	if content.HTML == "" && content.Text == "" {
		return nil, errors.New("campaign has neither an html nor a text body")
	}
	if content.From.Domain == "" {
		return nil, errors.New("campaign has no from address")
	}
	c := &Campaign{content: content, now: content.Now, index: map[string]int{}}
	if c.now == nil {
		c.now = time.Now
	}
	// The functions parsed here are placeholders with the right signatures; every renderer
	// binds its own (see newRenderer).
	var st renderState
	var err error
	if c.subject, err = ttemplate.New(PartSubject).Option("missingkey=error").Funcs(st.funcs(c.now)).Parse(content.Subject); err != nil {
		return nil, newTemplateError(PartSubject, err)
	}
	if content.HTML != "" {
		if c.html, err = htemplate.New(PartHTML).Option("missingkey=error").Funcs(st.funcs(c.now)).Parse(content.HTML); err != nil {
			return nil, newTemplateError(PartHTML, err)
		}
	}
	if content.Text != "" {
		if c.text, err = ttemplate.New(PartText).Option("missingkey=error").Funcs(st.funcs(c.now)).Parse(content.Text); err != nil {
			return nil, newTemplateError(PartText, err)
		}
	}
	for _, t := range content.Links {
		c.addTarget(t)
	}
	for _, t := range staticTargets(content.HTML) {
		c.addTarget(t)
	}
	return c, nil
}

// Targets returns the link table: Targets()[i] has click index i+1.
func (c *Campaign) Targets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.targets...)
}

func (c *Campaign) addTarget(t string) int {
	if i, ok := c.index[t]; ok {
		return i
	}
	c.targets = append(c.targets, t)
	c.index[t] = len(c.targets)
	return len(c.targets)
}

// linkIndex returns target's index, giving it the next one (and telling NewLink) if it is new.
func (c *Campaign) linkIndex(target string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.index[target]; ok {
		return i, nil
	}
	idx := len(c.targets) + 1
	if c.content.NewLink != nil {
		if err := c.content.NewLink(idx, target); err != nil {
			return 0, fmt.Errorf("new link %d: %w", idx, err)
		}
	}
	return c.addTarget(target), nil
}

// Render writes recipient r's whole message to w: the templates rendered with r and links, the
// HTML rewritten for tracking when both the campaign and r allow it, and the header of Build.
func (c *Campaign) Render(w io.Writer, r Recipient, links Links) error {
	rd, err := c.get()
	if err != nil {
		return err
	}
	defer c.put(rd)
	if err := rd.render(r, links, c.content.Tracking && r.Tracking, true); err != nil {
		return err
	}
	h := c.header(r, rd.subjectOut.String(), links)
	if m, ok := links.(MailtoUnsubscriber); ok {
		if s := m.UnsubscribeMailto(); s != "" {
			a, err := address.Parse(s)
			if err != nil {
				return fmt.Errorf("unsubscribe mailto: %w", err)
			}
			h.UnsubscribeMailto = a
		}
	}
	rd.out.Reset(w)
	if err := build(rd.out, h, rd.htmlBytes(), rd.textOut.Bytes()); err != nil {
		return err
	}
	if err := rd.out.Flush(); err != nil {
		return fmt.Errorf("write message: %w", err)
	}
	return nil
}

// Parts is one recipient's rendered subject and bodies (for a view-in-browser page or a preview).
type Parts struct {
	Subject string
	HTML    []byte // rewritten when tracking; nil without an HTML body
	Text    []byte
}

// RenderParts renders r's subject and bodies without building a message.
func (c *Campaign) RenderParts(r Recipient, links Links) (Parts, error) {
	rd, err := c.get()
	if err != nil {
		return Parts{}, err
	}
	defer c.put(rd)
	if err := rd.render(r, links, c.content.Tracking && r.Tracking, true); err != nil {
		return Parts{}, err
	}
	p := Parts{Subject: rd.subjectOut.String(), Text: bytes.Clone(rd.textOut.Bytes())}
	if c.html != nil {
		p.HTML = bytes.Clone(rd.htmlBytes())
	}
	return p, nil
}

func (c *Campaign) header(r Recipient, subject string, links Links) Header {
	return Header{
		From:           c.content.From,
		FromName:       c.content.FromName,
		ReplyTo:        c.content.ReplyTo,
		To:             r.Address,
		ToName:         r.Name,
		Subject:        subject,
		Date:           c.now(),
		UnsubscribeURL: links.UnsubscribeURL(),
		ListID:         c.content.ListID,
		ListName:       c.content.ListName,
		FeedbackID:     c.content.FeedbackID,
	}
}

// maxFree bounds the renderers kept between renders.
const maxFree = 16

func (c *Campaign) get() (*renderer, error) {
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		rd := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return rd, nil
	}
	c.mu.Unlock()
	return newRenderer(c)
}

func (c *Campaign) put(rd *renderer) {
	rd.state = renderState{}
	rd.out.Reset(io.Discard)
	c.mu.Lock()
	if len(c.free) < maxFree {
		c.free = append(c.free, rd)
	}
	c.mu.Unlock()
}

// renderer is one clone of a campaign's templates, with its functions bound to state, and the
// buffers it renders into.
type renderer struct {
	c       *Campaign
	state   renderState
	subject *ttemplate.Template
	html    *htemplate.Template
	text    *ttemplate.Template

	subjectRaw, subjectOut, htmlOut, trackedOut, textOut bytes.Buffer
	tracking                                             bool
	out                                                  *bufio.Writer
}

func newRenderer(c *Campaign) (*renderer, error) {
	rd := &renderer{c: c, out: bufio.NewWriterSize(io.Discard, 8192)}
	funcs := rd.state.funcs(c.now)
	var err error
	if rd.subject, err = c.subject.Clone(); err != nil {
		return nil, fmt.Errorf("clone subject template: %w", err)
	}
	rd.subject.Funcs(funcs)
	if c.html != nil {
		if rd.html, err = c.html.Clone(); err != nil {
			return nil, fmt.Errorf("clone html template: %w", err)
		}
		rd.html.Funcs(funcs)
	}
	if c.text != nil {
		if rd.text, err = c.text.Clone(); err != nil {
			return nil, fmt.Errorf("clone text template: %w", err)
		}
		rd.text.Funcs(funcs)
	}
	return rd, nil
}

// templateData is what templates see as dot.
type templateData struct {
	Name       string
	Email      string
	Attributes map[string]any
	Campaign   string
	List       string
	Lists      []string
}

// render fills the renderer's buffers for r. withText false skips the text part made from HTML
// (Check does not need it).
func (rd *renderer) render(r Recipient, links Links, tracking, withText bool) error {
	rd.state = renderState{recipient: &r, links: links}
	rd.tracking = tracking
	data := templateData{Name: r.Name, Email: r.Address.String(), Attributes: r.Attributes, Campaign: rd.c.content.Campaign, Lists: r.Lists}
	if len(r.Lists) > 0 {
		data.List = r.Lists[0]
	}
	rd.subjectRaw.Reset()
	if err := rd.subject.Execute(&rd.subjectRaw, &data); err != nil {
		return newTemplateError(PartSubject, err)
	}
	rd.subjectOut.Reset()
	writeClean(&rd.subjectOut, rd.subjectRaw.Bytes())
	rd.htmlOut.Reset()
	rd.trackedOut.Reset()
	rd.textOut.Reset()
	if rd.html != nil {
		if err := rd.html.Execute(&rd.htmlOut, &data); err != nil {
			return newTemplateError(PartHTML, err)
		}
		if tracking {
			if err := rewriteLinks(&rd.trackedOut, rd.htmlOut.Bytes(), rd.c, links); err != nil {
				return err
			}
		}
	}
	if rd.text != nil {
		if err := rd.text.Execute(&rd.textOut, &data); err != nil {
			return newTemplateError(PartText, err)
		}
	} else if withText {
		htmlToText(&rd.textOut, rd.htmlOut.Bytes())
	}
	return nil
}

// htmlBytes is the HTML to send: rewritten when tracking.
func (rd *renderer) htmlBytes() []byte {
	if rd.html == nil {
		return nil
	}
	if rd.tracking {
		return rd.trackedOut.Bytes()
	}
	return rd.htmlOut.Bytes()
}
