package campaign

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Limits of the audience's text fields, in bytes.
const (
	maxListName     = 100
	maxName         = 200
	maxAttributeKey = 64
	maxAttributes   = 100
	maxConsentText  = 2000
	maxListDesc     = 1000
)

// ListInput is a new list.
type ListInput struct {
	Name        string
	Description string
	// OptIn is "single" (default) or "double".
	OptIn string
}

// ListSummary is a list and its subscriptions counted by status.
type ListSummary struct {
	store.List
	Counts map[store.SubscriptionStatus]int64
}

// checkLine refuses what cannot be one line of text: invalid UTF-8, CR, LF and every other
// control character (a name ends up in header fields, RFC 5322 §2.2).
func checkLine(field, value string, limit int) error {
	if len(value) > limit {
		return operr.New(operr.Invalid, field, value, nil, "%s is longer than %d bytes", field, limit)
	}
	if !utf8.ValidString(value) {
		return operr.New(operr.Invalid, field, value, nil, "%s %q is not valid UTF-8", field, value)
	}
	for _, r := range value {
		if unicode.IsControl(r) {
			return operr.New(operr.Invalid, field, value, nil, "%s %q has a control character (%U)", field, value, r)
		}
	}
	return nil
}

// CheckName refuses a subscriber name that is not one line of printable text.
func CheckName(name string) error { return checkLine("name", name, maxName) }

// CheckAttributeKey refuses a key that is not an identifier ([A-Za-z_][A-Za-z0-9_]*).
func CheckAttributeKey(key string) error {
	ok := key != "" && len(key) <= maxAttributeKey
	for i, c := range key {
		letter := c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || c < '0' || c > '9') {
			ok = false
		}
	}
	if !ok {
		return operr.New(operr.Invalid, "attributes", key, nil,
			"attribute %q: want an identifier (letters, digits and _, not starting with a digit)", key)
	}
	return nil
}

// CheckAttributes refuses keys that are not identifiers and string values that are not valid
// UTF-8 or hold a NUL.
func CheckAttributes(attrs map[string]any) error {
	if len(attrs) > maxAttributes {
		return operr.New(operr.Invalid, "attributes", "", nil, "more than %d attributes", maxAttributes)
	}
	for k, v := range attrs {
		if err := CheckAttributeKey(k); err != nil {
			return err
		}
		if s, ok := v.(string); ok && (!utf8.ValidString(s) || strings.ContainsRune(s, 0)) {
			return operr.New(operr.Invalid, "attributes", k, nil, "attribute %s: the value is not valid text", k)
		}
	}
	return nil
}

// TruncateIP keeps the network part of an address for a consent record or an event: IPv4 to
// its /24, IPv6 to its /48. An empty or unparsable string gives "".
func TruncateIP(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	bits := 48
	if a.Is4() {
		bits = 24
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return ""
	}
	return p.Addr().String()
}

// CreateList adds a list.
func (s *Service) CreateList(ctx context.Context, in ListInput) (store.List, error) {
	if in.Name == "" {
		return store.List{}, operr.New(operr.Invalid, "list", "", nil, "a list needs a name")
	}
	if err := checkLine("list", in.Name, maxListName); err != nil {
		return store.List{}, err
	}
	if err := checkLine("description", in.Description, maxListDesc); err != nil {
		return store.List{}, err
	}
	opt := store.OptIn(in.OptIn)
	switch opt {
	case "":
		opt = store.OptInSingle
	case store.OptInSingle, store.OptInDouble:
	default:
		return store.List{}, operr.New(operr.Invalid, "opt_in", in.OptIn, nil, "opt-in %q: want single or double", in.OptIn)
	}
	l, err := s.Store.CreateList(ctx, store.List{Name: in.Name, Description: in.Description, OptIn: opt})
	if errors.Is(err, store.ErrExists) {
		return store.List{}, operr.New(operr.Exists, "list", in.Name, err, "list %s already exists", in.Name)
	} else if err != nil {
		return store.List{}, err
	}
	return l, s.record(ctx, "list.create", l.Name, audit.Details{"opt_in": string(l.OptIn)})
}

// list finds a list by name, as operr.NotFound for field "list".
func (s *Service) list(ctx context.Context, name string) (store.List, error) {
	l, err := s.Store.GetList(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return store.List{}, operr.New(operr.NotFound, "list", name, err, "unknown list %s", name)
	}
	return l, err
}

// Lists returns every list with its counts.
func (s *Service) Lists(ctx context.Context) ([]ListSummary, error) {
	lists, err := s.Store.ListLists(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ListSummary, 0, len(lists))
	for _, l := range lists {
		counts, err := s.Store.CountSubscriptions(ctx, l.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, ListSummary{List: l, Counts: counts})
	}
	return out, nil
}

// DeleteList deletes a list and its subscriptions; the subscribers stay.
func (s *Service) DeleteList(ctx context.Context, name string) error {
	l, err := s.list(ctx, name)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteList(ctx, l.ID); err != nil {
		return err
	}
	return s.record(ctx, "list.delete", l.Name, nil)
}

// SubscriberInput is a subscriber to create or update, and optionally the list to subscribe
// it to with its consent.
type SubscriberInput struct {
	Address    string
	Name       string
	Attributes map[string]any
	// List, when not "", is the list to subscribe the address to.
	List string
	// Source, IP (as seen; truncated here) and ConsentText make the consent record; Source ""
	// is cli. Tracking is the consent to open and click tracking.
	Source      store.ConsentSource
	IP          string
	ConsentText string
	Tracking    bool
	// Confirmed subscribes to a double opt-in list as confirmed: the consent was given and
	// confirmed elsewhere.
	Confirmed bool
}

// checkSubscriber normalises and checks the subscriber part of in.
func checkSubscriber(in SubscriberInput) (store.Subscriber, error) {
	addr, err := operr.ParseAddress("address", in.Address)
	if err != nil {
		return store.Subscriber{}, err
	}
	if err := CheckName(in.Name); err != nil {
		return store.Subscriber{}, err
	}
	if err := CheckAttributes(in.Attributes); err != nil {
		return store.Subscriber{}, err
	}
	return store.Subscriber{Address: addr, Name: in.Name, Attributes: in.Attributes}, nil
}

// consentOf builds the consent record of in at now.
func (s *Service) consentOf(in SubscriberInput) (store.Consent, error) {
	source := in.Source
	switch source {
	case "":
		source = store.SourceCLI
	case store.SourceImport, store.SourceForm, store.SourceAPI, store.SourceCLI:
	default:
		return store.Consent{}, operr.New(operr.Invalid, "source", string(source), nil, "consent source %q: want import, form, api or cli", source)
	}
	if len(in.ConsentText) > maxConsentText {
		return store.Consent{}, operr.New(operr.Invalid, "consent_text", "", nil, "consent text is longer than %d bytes", maxConsentText)
	}
	return store.Consent{At: s.now(), Source: source, IP: TruncateIP(in.IP), Text: in.ConsentText, Tracking: in.Tracking}, nil
}

// initialStatus is the status a new subscription to l starts with.
func initialStatus(l store.List, confirmed bool) store.SubscriptionStatus {
	if l.OptIn == store.OptInSingle || confirmed {
		return store.StatusConfirmed
	}
	return store.StatusUnconfirmed
}

// SaveSubscriber creates the subscriber of in.Address or replaces its name and attributes,
// and subscribes it to in.List when given.
func (s *Service) SaveSubscriber(ctx context.Context, in SubscriberInput) (store.Subscriber, error) {
	sub, err := checkSubscriber(in)
	if err != nil {
		return store.Subscriber{}, err
	}
	if in.List == "" {
		saved, err := s.Store.SaveSubscriber(ctx, sub)
		if err != nil {
			return store.Subscriber{}, err
		}
		return saved, s.record(ctx, "subscriber.save", saved.Address, nil)
	}
	l, err := s.list(ctx, in.List)
	if err != nil {
		return store.Subscriber{}, err
	}
	c, err := s.consentOf(in)
	if err != nil {
		return store.Subscriber{}, err
	}
	status := initialStatus(l, in.Confirmed)
	subs, err := s.Store.SubscribeToList(ctx, l.ID, []store.SubscribeRequest{{Subscriber: sub,
		Status: status, Consent: c}})
	if err != nil {
		return store.Subscriber{}, err
	}
	return subs[0], s.record(ctx, "subscriber.save", subs[0].Address,
		audit.Details{"list": l.Name, "status": string(status), "source": string(c.Source)})
}

// subscriber finds a subscriber by address, as operr.NotFound for field "address".
func (s *Service) subscriber(ctx context.Context, addr string) (store.Subscriber, error) {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return store.Subscriber{}, err
	}
	sub, err := s.Store.GetSubscriber(ctx, addr)
	if errors.Is(err, store.ErrNotFound) {
		return store.Subscriber{}, operr.New(operr.NotFound, "address", addr, err, "unknown subscriber %s", addr)
	}
	return sub, err
}

// Subscriber returns a subscriber and its subscriptions.
func (s *Service) Subscriber(ctx context.Context, addr string) (store.Subscriber, []store.Subscription, error) {
	sub, err := s.subscriber(ctx, addr)
	if err != nil {
		return store.Subscriber{}, nil, err
	}
	subs, err := s.Store.SubscriptionsOf(ctx, sub.ID)
	return sub, subs, err
}

// Subscribers returns a page of subscribers in id order after afterID: of the list named, or
// every subscriber when list is "".
func (s *Service) Subscribers(ctx context.Context, list string, afterID int64, limit int) ([]store.SubscriberEntry, error) {
	q := store.SubscriberQuery{AfterID: afterID, Limit: limit}
	if list != "" {
		l, err := s.list(ctx, list)
		if err != nil {
			return nil, err
		}
		q.ListID = l.ID
	}
	return s.Store.ListSubscribers(ctx, q)
}

// DeleteSubscriber deletes a subscriber with its subscriptions (erasure; its address is not
// suppressed).
func (s *Service) DeleteSubscriber(ctx context.Context, addr string) error {
	sub, err := s.subscriber(ctx, addr)
	if err != nil {
		return err
	}
	if err := s.Store.DeleteSubscriber(ctx, sub.ID); err != nil {
		return err
	}
	return s.record(ctx, "subscriber.delete", sub.Address, nil)
}

// Unsubscribe ends a subscriber's subscription to a list, recording how (in.Source, in.IP,
// in.ConsentText of in; in.Address and in.List name the subscription). Unsubscribing twice is
// not an error.
func (s *Service) Unsubscribe(ctx context.Context, in SubscriberInput) error {
	sub, err := s.subscriber(ctx, in.Address)
	if err != nil {
		return err
	}
	l, err := s.list(ctx, in.List)
	if err != nil {
		return err
	}
	c, err := s.consentOf(in)
	if err != nil {
		return err
	}
	err = s.Store.SetSubscriptionStatus(ctx, sub.ID, l.ID, store.StatusUnsubscribed, c)
	if errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "list", l.Name, err, "%s is not subscribed to %s", sub.Address, l.Name)
	} else if err != nil {
		return err
	}
	return s.record(ctx, "subscriber.unsubscribe", sub.Address, audit.Details{"list": l.Name, "source": string(c.Source)})
}

// Confirm confirms a subscription (the double opt-in link was followed), recording the
// confirmation as its consent.
func (s *Service) Confirm(ctx context.Context, subscriberID, listID int64, in SubscriberInput) error {
	c, err := s.consentOf(in)
	if err != nil {
		return err
	}
	cur, err := s.Store.GetSubscription(ctx, subscriberID, listID)
	if errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "subscription", "", err, "no such subscription")
	} else if err != nil {
		return err
	}
	if cur.Status == store.StatusConfirmed {
		return nil
	}
	if c.Text == "" {
		c.Text = cur.Consent.Text
	}
	c.Tracking = c.Tracking || cur.Consent.Tracking
	return s.Store.SetSubscriptionStatus(ctx, subscriberID, listID, store.StatusConfirmed, c)
}
