package filter

import (
	"context"
	"io"
	"net"

	"posthorn/internal/mailauth"
)

// MailAuth is the Authenticator of internal/mailauth: SPF and iprev at MAIL FROM, in parallel
// (iprev once per connection); DKIM, ARC and DMARC on the message; one Authentication-Results
// field naming Verifier.Hostname.
type MailAuth struct {
	Verifier *mailauth.Verifier
}

// Client runs iprev (RFC 8601 §3), whose answer depends on the client address alone; a
// temporary DNS error is not reused.
func (m MailAuth) Client(ctx context.Context, ip net.IP) (ClientAuth, bool) {
	res := m.Verifier.IPRev(ctx, ip)
	return res, res.Status != mailauth.StatusTempError
}

// Sender runs SPF (RFC 7208).
func (m MailAuth) Sender(ctx context.Context, env Envelope) SenderAuth {
	return m.Verifier.SPF(ctx, env.IP, env.HELO, env.From)
}

// Message runs DKIM, ARC and DMARC; the policy is mailauth's disposition (after pct=, sp= and
// the ARC override).
func (m MailAuth) Message(ctx context.Context, client ClientAuth, sender SenderAuth, r io.ReaderAt, size int64) (MessageAuth, error) {
	// Zero when MAIL FROM's checks did not finish in time.
	spf, _ := sender.(mailauth.SPFResult)
	iprev, _ := client.(mailauth.IPRevResult)
	if spf.Status == "" {
		spf.Status = mailauth.StatusTempError
	}
	res := m.Verifier.Message(ctx, spf, r, size)
	res.IPRev = iprev
	out := MessageAuth{
		DMARC:       string(res.DMARC.Status),
		Policy:      string(res.Disposition()),
		AuthResults: res.Header(m.Verifier.Hostname),
		SPF:         string(res.SPF.Status),
		DKIM:        string(mailauth.StatusNone),
	}
	for _, d := range res.DKIM {
		if d.Status == mailauth.StatusPass {
			out.DKIM = string(mailauth.StatusPass)
			break
		}
		out.DKIM = string(d.Status)
	}
	return out, nil
}

// StripAuthResults removes from a message header the Authentication-Results fields that claim
// authservID (RFC 8601 §5): only ours may say what we verified.
func StripAuthResults(header []byte, authservID string) []byte {
	return mailauth.StripAuthResults(header, authservID)
}
