// Package campaign is posthorn's bulk mail service: the audience (lists, subscribers and their
// subscriptions with consent records), CSV import and export, and the suppression ledger, with
// campaigns, sending, events and statistics built on the same store (store.CampaignStore).
//
// A Service is a store.CampaignStore and a clock. Operations take ctx first and typed inputs
// (addresses as strings, normalised here with internal/address; lists by name), print nothing
// and return values for the caller to show, the way internal/admin does: an operation refused
// because of its input returns an *operr.Error with a Code, the Field at fault and a message naming
// the value, which the CLI prints as one line and an API turns into {"error":{...}}; the
// store's sentinel errors stay reachable through errors.Is.
//
// The audience. A subscriber is one address with a name and free attributes (a JSON object),
// shared by every list. A name is one line of printable text (no CR, LF or other control
// character, so it can never add a header field), an attribute key an identifier
// ([A-Za-z_][A-Za-z0-9_]*), so that templates can name it. A subscription to a single opt-in
// list is confirmed at once; to a double opt-in list it stays unconfirmed until the person
// follows the confirmation link (or the operator says the consent was given elsewhere). Every
// subscription carries its consent record: when, how (import, form, api, cli), the source IP
// truncated (IPv4 to /24, IPv6 to /48) and the text the person agreed to. An import never
// re-subscribes a person who unsubscribed.
//
// CSV import streams: rows are read one at a time, checked (address, name, attributes,
// duplicates within the file) and imported in batches of ImportBatch, each batch checked
// against the suppression ledger in one query and written in one transaction. Memory is the
// batch plus, per distinct address of the file, a 64-bit hash and a line number (to report
// duplicates), never the rows themselves. Every rejected row is reported with its line number
// and reason through a callback, so a file of a million bad rows costs nothing either.
// Export streams a list's subscriptions page by page in subscriber id order.
//
// The suppression ledger (address, reason, source, time, optional expiry) is checked by every
// sending path; here it is managed (add, remove, list, import from a file of addresses).
//
// The public side — the open pixel, tracked links, the view in a browser, unsubscribe and
// preferences by token, the subscription form and its confirmation — is the Tracker
// (track.go says how it treats hostile input, subscribe.go how the form avoids mailing
// strangers), which internal/web serves.
//
// Campaigns (lifecycle.go). A template is a subject and bodies (Go templates, package render),
// compiled when saved so a syntax error is refused then; a campaign copies its template's
// content when created (editing the template later changes no campaign). A campaign's From is
// on a local domain, refused otherwise with field "from". Its life: draft -> scheduled ->
// running <-> paused -> finished, and cancelled from any status before finished; every move is
// one SetCampaignStatus with the statuses it may come from, so two interfaces racing cannot
// resume a cancelled campaign.
//
// Sending (send.go, send_loop.go). Sender.Start checks before anything is queued: a public URL
// for the links (every message has an unsubscribe link), the content compiled with the link
// table stored for the campaign (link indexes survive restarts; links found at render time are
// stored as they appear), and render.Check over one confirmed subscriber of each attribute
// shape of the audience (streamed once, page by page). A failure leaves the campaign as it was
// and names the subscriber and the field. Then FillRecipients builds the send ledger and the
// campaign runs. The loop of Sender.Run rereads the campaigns between batches: it starts the
// scheduled ones whose time has come (checking them again; one that fails goes back to draft)
// and sends a batch of each running one in turn, reading pending ledger rows in id order. A
// row no longer eligible (unsubscribed, suppressed, deleted since the start) is skipped; the
// others are rendered by a fixed number of workers (4 rendered messages at most, whatever the
// audience) and committed through the Outbox at bulk priority with the VERP sender and the row's
// id, so the store moves the row pending -> queued in the transaction that queues its message:
// after a crash the loop resumes at the first pending row and never queues a row twice (a
// conflict from the store means the row was queued already). A local recipient is delivered at
// once and its row marked delivered just after (a crash between the two can deliver one local
// copy twice). A render error or an unknown local address skips the row, logged; other errors
// leave it pending for the next pass. A campaign's rate cap is a token bucket (one second's
// worth at most at once) on top of the queue's limits; a pause or cancel is seen within a second,
// also during a rate wait. When no pending row is left the campaign is finished. In an anonymous
// campaign the tracking links (open, click, view) carry recipient 0; the unsubscribe and
// preferences links and the VERP address keep the recipient, since they act on the person. Test
// sends go to the addresses given, "[test]" before the subject, rendered with the address's
// subscriber record or the audience's first subscriber, untracked, outside the ledger, and not to
// a suppressed address.
//
// Statistics (stats.go): Service.Stats reads a campaign's ledger and events in one snapshot;
// the doc of Stats defines what each number counts. Machine opens and clicks stay in the raw
// counts and out of the human rates, which are shown beside the machine ones.
//
// Webhooks (webhook.go). A WebhookDispatcher POSTs new campaign events to each configured
// webhook, one goroutine per webhook following its own cursor (store.CampaignWebhookStore):
// it reads at most Batch events after the cursor, sends those of the kinds the webhook asked
// for as one JSON body ({"events":[{"id","kind","campaign_id","campaign","recipient" (absent
// when anonymous),"link_index","link" (clicks),"machine","reason","at"}]}), and moves the
// cursor past the batch only after a 2xx answer (a batch with nothing asked for is passed over
// at once). Any other answer, a redirect (never followed), a network error or a request that
// exceeds Timeout is retried after MinBackoff doubled per failure in a row up to MaxBackoff
// (1 s .. 1 h); the failure count and the next attempt are saved, so a restart resumes after
// the cursor and keeps the backoff. Delivery is at least once: a receiver deduplicates by
// event id. The dispatcher only reads events, so recording them never waits on a receiver.
// A new webhook starts at the newest event recorded when it is first seen, not the history.
//
// A receiver verifies each request: X-Posthorn-Timestamp is the unix time of sending in
// seconds, X-Posthorn-Signature is "v1=" and the lower-case hex of HMAC-SHA256 keyed by the
// webhook's secret over the timestamp, a ".", and the raw body, exactly as received. Compute
// it, compare in constant time (hmac.Equal), and refuse a timestamp more than a few minutes
// from the receiver's clock, so that a captured request cannot be replayed later.
package campaign

import (
	"time"

	"posthorn/internal/store"
)

// Service runs the bulk mail operations on one store.
type Service struct {
	Store store.CampaignStore
	// Metrics counts messages sent and events recorded; nil counts nothing.
	Metrics *Metrics
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}
