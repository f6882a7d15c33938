package campaign

import (
	"context"
	"fmt"
	"strings"

	"posthorn/internal/campaign/token"
)

// The paths of the public endpoints (internal/web serves them under Config.PublicURL), one
// per token kind (package token).
const (
	PathOpen        = "/t/o/"         // + Open token + ".gif": the open pixel
	PathClick       = "/t/c/"         // + Click token: the tracked link's redirect
	PathView        = "/t/v/"         // + View token: the message in a browser
	PathUnsubscribe = "/u/"           // + Unsubscribe token: GET a page, POST one-click (RFC 8058)
	PathPreferences = "/p/"           // + Preferences token: leave one list or all
	PathConfirm     = "/s/confirm/"   // + Confirm token: double opt-in
	PathSubscribe   = "/s/subscribe/" // + list name: the public subscription form
)

// Signer returns the signer of every campaign token, with the store's key (created on first
// use, then the same on every node and after a restore).
func (s *Service) Signer(ctx context.Context) (token.Signer, error) {
	key, err := s.Store.CampaignKey(ctx)
	if err != nil {
		return token.Signer{}, fmt.Errorf("campaign key: %w", err)
	}
	return token.Signer{Key: key}, nil
}

// Links are the public URLs and addresses of one recipient of one campaign, signed: it
// implements render.Links and render.MailtoUnsubscriber. Recipient 0 is the anonymous mode
// (the events count for the campaign, naming nobody); Subscriber 0 gives no preferences link.
type Links struct {
	Signer     token.Signer
	Base       string // Config.PublicURL, without a trailing slash
	Domain     string // the VERP and mailto domain: the From address's
	Campaign   int64
	Recipient  int64
	Subscriber int64
}

func (l Links) recipient() token.Recipient {
	return token.Recipient{Campaign: l.Campaign, Recipient: l.Recipient}
}

func (l Links) url(path, tok string) string { return strings.TrimRight(l.Base, "/") + path + tok }

func (l Links) UnsubscribeURL() string {
	return l.url(PathUnsubscribe, l.Signer.SignUnsubscribe(l.recipient()))
}

func (l Links) ViewURL() string { return l.url(PathView, l.Signer.SignView(l.recipient())) }

func (l Links) PreferencesURL() string {
	if l.Subscriber == 0 {
		return l.UnsubscribeURL()
	}
	return l.url(PathPreferences, l.Signer.SignPreferences(l.Subscriber))
}

func (l Links) ClickURL(idx int, target string) string {
	c := token.Click{Campaign: l.Campaign, Recipient: l.Recipient, Link: int64(idx)}
	return l.url(PathClick, l.Signer.SignClick(c, target))
}

func (l Links) OpenURL() string { return l.url(PathOpen, l.Signer.SignOpen(l.recipient())+".gif") }

// UnsubscribeMailto is the address of List-Unsubscribe's mailto (RFC 2369), handled by the MX.
func (l Links) UnsubscribeMailto() string {
	return token.UnsubscribeAddress(l.Signer.SignUnsubscribe(l.recipient()), l.Domain)
}

// BounceAddress is the recipient's VERP envelope sender: every bounce names it.
func (l Links) BounceAddress() string {
	return token.BounceAddress(l.Signer.SignBounce(l.recipient()), l.Domain)
}
