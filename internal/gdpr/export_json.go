package gdpr

import (
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/store"
)

// The JSON shapes of the export's parts: what a person can read, without hashes, secrets or
// the store's internal ids where they mean nothing to them.

// stamp is a time as the export writes it (RFC 3339, UTC), "" for none.
func stamp(t time.Time) string {
	if t.IsZero() || t.Unix() == 0 {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// mapEach maps v with f, never nil, so every empty part is written as [].
func mapEach[T, U any](v []T, f func(T) U) []U {
	out := make([]U, 0, len(v))
	for _, x := range v {
		out = append(out, f(x))
	}
	return out
}

type appPasswordJSON struct {
	Name      string `json:"name"`
	CreatedAt string `json:"created_at"`
}

type mailboxJSON struct {
	Name       string `json:"name"`
	SpecialUse string `json:"special_use,omitempty"`
	Messages   int64  `json:"messages"`
}

type accountOut struct {
	Address      string            `json:"address"`
	CreatedAt    string            `json:"created_at"`
	QuotaBytes   *int64            `json:"quota_bytes"` // null: the server's default
	UsedBytes    int64             `json:"used_bytes"`
	Mailboxes    []mailboxJSON     `json:"mailboxes"`
	SendAs       []string          `json:"send_as"`
	SendPerHour  *int64            `json:"send_per_hour"` // null: the server's default
	SendPerDay   *int64            `json:"send_per_day"`
	AppPasswords []appPasswordJSON `json:"app_passwords"`
	WebAdmin     bool              `json:"web_admin"`
	TOTPEnabled  bool              `json:"totp_enabled"`
	RecoveryLeft int               `json:"recovery_codes_left"`
}

func limit(v int64) *int64 {
	if v < 0 {
		return nil
	}
	return &v
}

func accountJSON(p *Person) accountOut {
	a := p.Account
	out := accountOut{Address: a.Address, CreatedAt: stamp(a.CreatedAt), QuotaBytes: limit(a.QuotaBytes),
		UsedBytes: p.UsedBytes, SendAs: orEmpty(p.SendAs), SendPerHour: limit(p.SendLimits.PerHour),
		SendPerDay: limit(p.SendLimits.PerDay), WebAdmin: p.Web.Admin, TOTPEnabled: p.Web.TOTPEnabled,
		RecoveryLeft: p.RecoveryLeft}
	out.Mailboxes = mapEach(p.Mailboxes, func(m store.Mailbox) mailboxJSON {
		return mailboxJSON{Name: m.Name, SpecialUse: m.SpecialUse, Messages: m.MessageCount}
	})
	out.AppPasswords = mapEach(p.AppPasswords, func(ap store.AppPassword) appPasswordJSON {
		return appPasswordJSON{Name: ap.Name, CreatedAt: stamp(ap.CreatedAt)}
	})
	return out
}

type aliasOut struct {
	Address string   `json:"address"`
	Targets []string `json:"targets"`
}

func aliasesJSON(v []store.Alias) []aliasOut {
	return mapEach(v, func(a store.Alias) aliasOut { return aliasOut{a.Address, orEmpty(a.Targets)} })
}

type loginOut struct {
	Kind      string `json:"kind"` // "mail" (IMAP, POP3, SMTP: the last login from a source) or "web"
	Source    string `json:"source"`
	At        string `json:"at"`
	UserAgent string `json:"user_agent,omitempty"`
}

func loginsJSON(p *Person) []loginOut {
	out := mapEach(p.LoginSources, func(l store.LoginSource) loginOut {
		return loginOut{Kind: "mail", Source: l.Source, At: stamp(l.LastSuccess)}
	})
	for _, l := range p.WebLogins {
		out = append(out, loginOut{Kind: "web", Source: l.Source, At: stamp(l.At), UserAgent: l.UserAgent})
	}
	return out
}

type sessionOut struct {
	CreatedAt string `json:"created_at"`
	LastSeen  string `json:"last_seen"`
	Source    string `json:"source"`
	UserAgent string `json:"user_agent"`
	Pending   bool   `json:"pending_second_factor"`
}

func sessionsJSON(v []store.WebSession) []sessionOut {
	return mapEach(v, func(s store.WebSession) sessionOut {
		return sessionOut{stamp(s.CreatedAt), stamp(s.LastSeen), s.Source, s.UserAgent, s.Pending}
	})
}

type queueOut struct {
	ID          int64  `json:"id"`
	Sender      string `json:"sender"`
	Recipient   string `json:"recipient"`
	Size        int64  `json:"size"`
	QueuedAt    string `json:"queued_at"`
	NextAttempt string `json:"next_attempt"`
	Attempts    int    `json:"attempts"`
	LastError   string `json:"last_error,omitempty"`
	State       string `json:"state"`
}

func queueJSON(v []store.QueuedMessage) []queueOut {
	return mapEach(v, func(q store.QueuedMessage) queueOut {
		return queueOut{q.ID, q.Sender, q.Recipient, q.Size, stamp(q.QueuedAt), stamp(q.NextAttempt), q.Attempts,
			q.LastError, string(q.State())}
	})
}

type subscriberOut struct {
	Address    string         `json:"address"`
	Name       string         `json:"name"`
	Attributes map[string]any `json:"attributes"`
	CreatedAt  string         `json:"created_at"`
	UpdatedAt  string         `json:"updated_at"`
}

// subscriberJSON is the subscriber, or null.
func subscriberJSON(s *store.Subscriber) *subscriberOut {
	if s == nil {
		return nil
	}
	attrs := s.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	return &subscriberOut{s.Address, s.Name, attrs, stamp(s.CreatedAt), stamp(s.UpdatedAt)}
}

type subscriptionOut struct {
	List      string `json:"list"`
	Status    string `json:"status"`
	UpdatedAt string `json:"updated_at"`
}

func subscriptionsJSON(v []store.ListSubscription) []subscriptionOut {
	return mapEach(v, func(s store.ListSubscription) subscriptionOut {
		return subscriptionOut{s.List, string(s.Status), stamp(s.UpdatedAt)}
	})
}

type consentOut struct {
	List     string `json:"list"`
	At       string `json:"at"`
	Source   string `json:"source"`
	IP       string `json:"ip"`
	Text     string `json:"text"`
	Tracking bool   `json:"tracking"`
}

func consentJSON(v []store.ListSubscription) []consentOut {
	return mapEach(v, func(s store.ListSubscription) consentOut {
		c := s.Consent
		return consentOut{s.List, stamp(c.At), string(c.Source), c.IP, c.Text, c.Tracking}
	})
}

type recipientOut struct {
	ID         int64  `json:"id"`
	CampaignID int64  `json:"campaign_id"`
	Address    string `json:"address"`
	State      string `json:"state"`
	Tracking   bool   `json:"tracking"`
	UpdatedAt  string `json:"updated_at"`
}

func recipientsJSON(v []store.Recipient) []recipientOut {
	return mapEach(v, func(r store.Recipient) recipientOut {
		return recipientOut{r.ID, r.CampaignID, r.Address, string(r.State), r.Tracking, stamp(r.UpdatedAt)}
	})
}

type eventOut struct {
	CampaignID  int64  `json:"campaign_id"`
	RecipientID int64  `json:"recipient_id"`
	Kind        string `json:"kind"`
	Link        *int   `json:"link,omitempty"`
	Machine     bool   `json:"machine"`
	Reason      string `json:"reason,omitempty"`
	UserAgent   string `json:"user_agent,omitempty"`
	IP          string `json:"ip,omitempty"`
	At          string `json:"at"`
}

func eventsJSON(v []store.Event) []eventOut {
	return mapEach(v, func(e store.Event) eventOut {
		out := eventOut{CampaignID: e.CampaignID, RecipientID: e.RecipientID, Kind: string(e.Kind), Machine: e.Machine,
			Reason: e.Reason, UserAgent: e.UserAgent, IP: e.IP, At: stamp(e.At)}
		if e.LinkIndex >= 0 {
			link := e.LinkIndex
			out.Link = &link
		}
		return out
	})
}

type suppressionOut struct {
	Address   string `json:"address"`
	Reason    string `json:"reason"`
	Source    string `json:"source"`
	CreatedAt string `json:"created_at"`
	Expires   string `json:"expires,omitempty"`
}

type suppressionsOut struct {
	Suppressions []suppressionOut `json:"suppressions"`
	SoftBounces  int64            `json:"soft_bounces_in_a_row"`
}

func suppressionsJSON(r *store.PersonalRecords) suppressionsOut {
	return suppressionsOut{mapEach(r.Suppressions, func(s store.Suppression) suppressionOut {
		return suppressionOut{s.Address, string(s.Reason), s.Source, stamp(s.CreatedAt), stamp(s.Expires)}
	}), r.SoftBounces}
}

type spamListOut struct {
	Account string `json:"account"`
	List    string `json:"list"` // "allow" or "block"
	Entry   string `json:"entry"`
}

type correspondentOut struct {
	Account  string `json:"account"`
	LastSeen string `json:"last_seen"`
}

type spamOut struct {
	Lists          []spamListOut      `json:"lists"`
	Correspondents []correspondentOut `json:"correspondents"`
}

func spamJSON(r *store.PersonalRecords) spamOut {
	return spamOut{
		Lists: mapEach(r.SpamListEntries, func(e store.AccountSpamEntry) spamListOut {
			list := "allow"
			if e.Block {
				list = "block"
			}
			return spamListOut{e.Account, list, e.Entry}
		}),
		Correspondents: mapEach(r.Correspondents, func(c store.AccountCorrespondent) correspondentOut {
			return correspondentOut{c.Account, stamp(c.LastSeen)}
		}),
	}
}

type greylistOut struct {
	Triplet   string `json:"triplet"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
	Passed    bool   `json:"passed"`
}

func greylistJSON(v []store.GreylistEntry) []greylistOut {
	return mapEach(v, func(g store.GreylistEntry) greylistOut {
		return greylistOut{g.Triplet, stamp(g.FirstSeen), stamp(g.LastSeen), g.Passed}
	})
}

func auditJSON(v []store.AuditEntry) []audit.Entry {
	return mapEach(v, audit.EntryJSON)
}

type mailEventOut struct {
	Time      string         `json:"time"`
	Event     string         `json:"event"`
	ID        string         `json:"id,omitempty"`
	MsgID     string         `json:"msgid,omitempty"`
	From      string         `json:"from"`
	Rcpt      string         `json:"rcpt,omitempty"`
	Result    string         `json:"result,omitempty"`
	Code      string         `json:"code,omitempty"`
	Remote    string         `json:"remote,omitempty"`
	Size      int64          `json:"size,omitempty"`
	Reasons   string         `json:"reasons,omitempty"`
	Mailboxes []localCopyOut `json:"mailboxes,omitempty"`
}

// localCopyOut is where a local delivery put a message.
type localCopyOut struct {
	Account string `json:"account"`
	Mailbox string `json:"mailbox"`
}

func mailEventJSON(e store.MailEvent) mailEventOut {
	out := mailEventOut{stamp(e.Time), e.Event, e.BlobID, e.MsgID, e.From, e.Rcpt, e.Result, e.Code, e.Remote,
		e.Size, e.Reasons, nil}
	for _, m := range e.Mailboxes {
		out.Mailboxes = append(out.Mailboxes, localCopyOut{m.Account, m.Mailbox})
	}
	return out
}
