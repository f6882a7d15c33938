package campaign

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"posthorn/internal/store"
)

// Webhook is one receiver of campaign events ([[campaign.webhooks]] in the configuration).
type Webhook struct {
	URL    string // also the key of its cursor in the store
	Secret string
	// Events are the kinds sent; none: every kind.
	Events []store.EventKind
}

// wants reports whether the webhook asked for events of kind k.
func (h Webhook) wants(k store.EventKind) bool {
	return len(h.Events) == 0 || slices.Contains(h.Events, k)
}

// The defaults of WebhookDispatcher.
const (
	DefaultWebhookBatch      = 100
	DefaultWebhookTimeout    = 10 * time.Second
	DefaultWebhookPoll       = time.Second
	DefaultWebhookMinBackoff = time.Second
	DefaultWebhookMaxBackoff = time.Hour
	// webhookReplyLimit is how much of a receiver's reply is read (and its start kept in
	// the error); the rest is dropped with the connection.
	webhookReplyLimit = 64 << 10
)

// The headers of a webhook request.
const (
	HeaderWebhookTimestamp = "X-Posthorn-Timestamp"
	HeaderWebhookSignature = "X-Posthorn-Signature"
)

// WebhookDispatcher POSTs new campaign events to the webhooks, one goroutine per webhook, each
// following its own cursor in the store (see the package doc, "Webhooks"). The zero values of
// the tuning fields are the Default* constants.
type WebhookDispatcher struct {
	Store  store.CampaignWebhookStore
	Hooks  []Webhook
	Logger *slog.Logger // nil: discarded
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Client sends the requests; nil: one of its own. Either way redirects are never
	// followed: a 3xx answer is a failure like any other that is not 2xx.
	Client *http.Client
	// Batch is the most events one request carries; Timeout bounds one request, from
	// connecting to the end of the reply; Poll is how often new events are looked for when
	// there are none; a failed request is retried after MinBackoff, doubled at each failure
	// in a row up to MaxBackoff.
	Batch                  int
	Timeout                time.Duration
	Poll                   time.Duration
	MinBackoff, MaxBackoff time.Duration
}

// Run delivers events until ctx is done, and returns when every webhook's goroutine has.
func (d *WebhookDispatcher) Run(ctx context.Context) {
	client := d.client()
	var wg sync.WaitGroup
	for _, h := range d.Hooks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d.serve(ctx, client, h)
		}()
	}
	wg.Wait()
	client.CloseIdleConnections()
}

func (d *WebhookDispatcher) client() *http.Client {
	c := &http.Client{}
	if d.Client != nil {
		*c = *d.Client
	} else {
		c.Transport = http.DefaultTransport.(*http.Transport).Clone()
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

// serve is one webhook's loop. Its state is read from the store once, then kept here: this
// goroutine is its only writer.
func (d *WebhookDispatcher) serve(ctx context.Context, client *http.Client, h Webhook) {
	log := d.logger().With("webhook", h.URL)
	var st store.WebhookState
	for {
		st0, err := d.Store.WebhookState(ctx, h.URL, d.now())
		if err == nil {
			st = st0
			break
		}
		log.Error("campaign webhook: read state", "err", err)
		if !waitOrDone(ctx, d.poll()) {
			return
		}
	}
	for {
		wait := d.step(ctx, client, h, &st, log)
		if !waitOrDone(ctx, wait) {
			return
		}
	}
}

// step makes one attempt: it sends the next batch due, or passes over events the webhook did
// not ask for, and returns how long to wait before the next attempt.
func (d *WebhookDispatcher) step(ctx context.Context, client *http.Client, h Webhook, st *store.WebhookState, log *slog.Logger) time.Duration {
	now := d.now()
	if st.NextAttempt.After(now) {
		return st.NextAttempt.Sub(now)
	}
	events, err := d.Store.EventsAfter(ctx, st.AfterID, d.batch())
	if err != nil {
		if ctx.Err() == nil {
			log.Error("campaign webhook: read events", "err", err)
		}
		return d.poll()
	}
	if len(events) == 0 {
		return d.poll()
	}
	last := events[len(events)-1].ID
	var wanted []store.WebhookEvent
	for _, e := range events {
		if h.wants(e.Kind) {
			wanted = append(wanted, e)
		}
	}
	if len(wanted) > 0 {
		if err := d.post(ctx, client, h, wanted); err != nil {
			if ctx.Err() != nil {
				return 0 // stopping: the batch stays unacknowledged, for the next start
			}
			st.Failures++
			wait := d.backoff(st.Failures)
			st.NextAttempt, st.LastError, st.UpdatedAt = now.Add(wait), err.Error(), now
			log.Warn("campaign webhook: delivery failed", "err", err, "failures", st.Failures, "retry_in", wait)
			if err := d.Store.SaveWebhookState(ctx, *st); err != nil && ctx.Err() == nil {
				log.Error("campaign webhook: save state", "err", err)
			}
			return wait
		}
		log.Debug("campaign webhook: delivered", "events", len(wanted), "after", last)
	}
	// Acknowledged (or nothing asked for): the cursor moves past the batch.
	*st = store.WebhookState{Name: st.Name, AfterID: last, UpdatedAt: now}
	if err := d.Store.SaveWebhookState(ctx, *st); err != nil && ctx.Err() == nil {
		// The receiver gets the batch again after a restart: at least once.
		log.Error("campaign webhook: save cursor", "err", err)
	}
	if len(events) == d.batch() {
		return 0 // more may be waiting
	}
	return d.poll()
}

// WebhookPayload is the JSON body of a webhook request.
type WebhookPayload struct {
	Events []WebhookEventJSON `json:"events"`
}

// WebhookEventJSON is one event of a webhook request. Receivers deduplicate by ID: an event
// is sent at least once, and again when its batch was not acknowledged.
type WebhookEventJSON struct {
	ID         int64     `json:"id"`
	Kind       string    `json:"kind"`
	CampaignID int64     `json:"campaign_id"`
	Campaign   string    `json:"campaign"`
	Recipient  string    `json:"recipient,omitempty"`  // the address; absent when anonymous
	LinkIndex  *int      `json:"link_index,omitempty"` // clicks
	Link       string    `json:"link,omitempty"`       // clicks: the target URL
	Machine    bool      `json:"machine"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}

func webhookJSON(e store.WebhookEvent) WebhookEventJSON {
	j := WebhookEventJSON{ID: e.ID, Kind: string(e.Kind), CampaignID: e.CampaignID, Campaign: e.CampaignName,
		Recipient: e.Address, Link: e.LinkURL, Machine: e.Machine, Reason: e.Reason, At: e.At.UTC()}
	if e.Kind == store.EventClick && e.LinkIndex >= 0 {
		idx := e.LinkIndex
		j.LinkIndex = &idx
	}
	return j
}

// post sends one signed batch and returns nil only for a 2xx answer.
func (d *WebhookDispatcher) post(ctx context.Context, client *http.Client, h Webhook, events []store.WebhookEvent) error {
	payload := WebhookPayload{Events: make([]WebhookEventJSON, 0, len(events))}
	for _, e := range events {
		payload.Events = append(payload.Events, webhookJSON(e))
	}
	body, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("encode events: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("request: %w", err)
	}
	ts := strconv.FormatInt(d.now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "posthorn-webhooks/1")
	req.Header.Set(HeaderWebhookTimestamp, ts)
	req.Header.Set(HeaderWebhookSignature, SignWebhook(h.Secret, ts, body))
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	reply, rerr := io.ReadAll(io.LimitReader(resp.Body, webhookReplyLimit))
	cerr := resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			return fmt.Errorf("receiver answered %s, redirect to %s not followed", resp.Status, loc)
		}
		return fmt.Errorf("receiver answered %s: %q", resp.Status, clipReply(reply, 200))
	}
	// A 2xx whose reply cannot be read in time is still an acknowledgement.
	if err := errors.Join(rerr, cerr); err != nil {
		d.logger().Debug("campaign webhook: reading the reply", "webhook", h.URL, "err", err)
	}
	return nil
}

// SignWebhook returns the X-Posthorn-Signature value of body sent with the
// X-Posthorn-Timestamp value timestamp: "v1=" and the lower-case hex HMAC-SHA256, keyed by
// the secret, of timestamp + "." + body.
func SignWebhook(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

// backoff is the wait after the n-th failure in a row: MinBackoff doubled n-1 times, at most
// MaxBackoff.
func (d *WebhookDispatcher) backoff(n int) time.Duration {
	lo, hi := d.MinBackoff, d.MaxBackoff
	if lo <= 0 {
		lo = DefaultWebhookMinBackoff
	}
	if hi <= 0 {
		hi = DefaultWebhookMaxBackoff
	}
	wait := lo
	for i := 1; i < n && wait < hi; i++ {
		wait *= 2
	}
	return min(wait, hi)
}

func (d *WebhookDispatcher) batch() int {
	if d.Batch <= 0 {
		return DefaultWebhookBatch
	}
	return d.Batch
}

func (d *WebhookDispatcher) timeout() time.Duration {
	if d.Timeout <= 0 {
		return DefaultWebhookTimeout
	}
	return d.Timeout
}

func (d *WebhookDispatcher) poll() time.Duration {
	if d.Poll <= 0 {
		return DefaultWebhookPoll
	}
	return d.Poll
}

func (d *WebhookDispatcher) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *WebhookDispatcher) logger() *slog.Logger {
	if d.Logger != nil {
		return d.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// waitOrDone waits for d or the end of ctx, and reports whether ctx is still going.
func waitOrDone(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// clipReply returns at most n bytes of b as a string.
func clipReply(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
