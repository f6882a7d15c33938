package filter

import (
	"context"
	"io"
	"sync"

	"posthorn/internal/mailauth"
)

// MailAuth is the Authenticator of internal/mailauth: SPF and iprev at MAIL FROM, in parallel;
// DKIM, ARC and DMARC on the message; one Authentication-Results field naming Verifier.Hostname.
type MailAuth struct {
	Verifier *mailauth.Verifier
}

type senderResults struct {
	spf   mailauth.SPFResult
	iprev mailauth.IPRevResult
}

// Sender runs SPF (RFC 7208) and iprev (RFC 8601 §3) together.
func (m MailAuth) Sender(ctx context.Context, env Envelope) SenderAuth {
	var res senderResults
	var wg sync.WaitGroup
	wg.Go(func() { res.spf = m.Verifier.SPF(ctx, env.IP, env.HELO, env.From) })
	wg.Go(func() { res.iprev = m.Verifier.IPRev(ctx, env.IP) })
	wg.Wait()
	return res
}

// Message runs DKIM, ARC and DMARC; the policy is mailauth's disposition (after pct=, sp= and
// the ARC override).
func (m MailAuth) Message(ctx context.Context, sender SenderAuth, r io.ReaderAt, size int64) (MessageAuth, error) {
	s, _ := sender.(senderResults) // zero when MAIL FROM's checks did not finish in time
	if s.spf.Status == "" {
		s.spf.Status = mailauth.StatusTempError
	}
	res := m.Verifier.Message(ctx, s.spf, r, size)
	res.IPRev = s.iprev
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
