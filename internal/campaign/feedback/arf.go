package feedback

import (
	"errors"
	"io"
	"net/mail"
	"net/netip"
	"net/textproto"
	"strings"
	"time"
)

// ErrNotARF is returned by ParseARF for a message without a feedback report part.
var ErrNotARF = errors.New("not a feedback report")

// Report is an ARF feedback report (RFC 5965).
type Report struct {
	// FeedbackType is the lower-case Feedback-Type (RFC 5965 §3.1, §7.3): abuse, fraud,
	// virus, other, not-spam (RFC 6650 §2), or an extension.
	FeedbackType string
	UserAgent    string
	Version      string
	// OriginalMailFrom and OriginalRcptTo are the reported message's envelope as the
	// reporter saw it, angle brackets removed; Original-Rcpt-To may repeat (§3.2).
	OriginalMailFrom string
	OriginalRcptTo   []string
	// ArrivalDate is Arrival-Date (or Received-Date, its name in drafts before RFC 5965);
	// zero if absent or unreadable.
	ArrivalDate time.Time
	// SourceIP is Source-IP; invalid if absent or unreadable.
	SourceIP       netip.Addr
	ReportedDomain []string
	ReportedURI    []string
	// Fields are all the report's fields, for what the above leaves out.
	Fields textproto.MIMEHeader
	// Message is the header of the reported message (the third part, message/rfc822 or
	// text/rfc822-headers); nil if the report had none.
	Message *ReportedMessage
}

// ReportedMessage is the header of a message returned in a report, with the fields that lead
// back to a campaign and a recipient picked out. Values are unfolded and trimmed, not decoded.
type ReportedMessage struct {
	// ReturnPath is the address of Return-Path (RFC 5321 §4.4), angle brackets removed: for
	// campaign mail, the VERP sender bounce+TOKEN@DOMAIN.
	ReturnPath      string
	From            string
	To              string
	Subject         string
	MessageID       string
	ListID          string // RFC 2919
	ListUnsubscribe string // RFC 2369, with the unsubscribe token in its URLs
	FeedbackID      string // the Feedback-ID field providers' complaint loops report on
	Header          textproto.MIMEHeader
}

func reportedMessage(h textproto.MIMEHeader) *ReportedMessage {
	return &ReportedMessage{
		ReturnPath:      stripAddress(h.Get("Return-Path")),
		From:            h.Get("From"),
		To:              h.Get("To"),
		Subject:         h.Get("Subject"),
		MessageID:       h.Get("Message-Id"),
		ListID:          h.Get("List-Id"),
		ListUnsubscribe: h.Get("List-Unsubscribe"),
		FeedbackID:      h.Get("Feedback-Id"),
		Header:          h,
	}
}

// ParseARF reads an ARF feedback report from r within lim: a multipart/report
// (report-type=feedback-report, RFC 5965 §2) whose message/feedback-report part holds the
// report's fields (§3) and whose third part is the reported message or its header.
//
// It is lenient where reporters are: the report part is found whatever the report-type
// says, and only Feedback-Type is required of the fields §3.1 makes required (a report
// without it is ErrNotARF); a report without the message is returned with Message nil.
func ParseARF(r io.Reader, lim Limits) (*Report, error) {
	c, err := collect(r, lim)
	if err != nil {
		return nil, err
	}
	return arfFrom(c)
}

func arfFrom(c *collected) (*Report, error) {
	if c.feedback == nil {
		return nil, ErrNotARF
	}
	h := parseFields(c.feedback)
	rep := &Report{
		FeedbackType:     strings.ToLower(h.Get("Feedback-Type")),
		UserAgent:        h.Get("User-Agent"),
		Version:          h.Get("Version"),
		OriginalMailFrom: stripAddress(h.Get("Original-Mail-From")),
		ReportedDomain:   h.Values("Reported-Domain"),
		ReportedURI:      h.Values("Reported-Uri"),
		Fields:           h,
	}
	if rep.FeedbackType == "" {
		return nil, ErrNotARF
	}
	for _, v := range h.Values("Original-Rcpt-To") {
		rep.OriginalRcptTo = append(rep.OriginalRcptTo, stripAddress(v))
	}
	date := h.Get("Arrival-Date")
	if date == "" {
		date = h.Get("Received-Date")
	}
	if t, err := mail.ParseDate(date); err == nil {
		rep.ArrivalDate = t
	}
	if ip, err := netip.ParseAddr(strings.Trim(h.Get("Source-Ip"), "[] ")); err == nil {
		rep.SourceIP = ip
	}
	if c.original != nil {
		rep.Message = reportedMessage(c.original)
	}
	return rep, nil
}

// Parsed is what Parse found: exactly one of DSN and ARF is set.
type Parsed struct {
	DSN *DSN
	ARF *Report
}

// Parse reads a message that arrived at a bounce or abuse address and returns it as a
// feedback report when it has a feedback report part, otherwise as a delivery status
// notification (see ParseARF and ParseDSN). ErrNotDSN when it is neither.
func Parse(r io.Reader, lim Limits) (Parsed, error) {
	c, err := collect(r, lim)
	if err != nil {
		return Parsed{}, err
	}
	if c.feedback != nil {
		if rep, err := arfFrom(c); err == nil {
			return Parsed{ARF: rep}, nil
		}
	}
	d, err := dsnFrom(c)
	if err != nil {
		return Parsed{}, err
	}
	return Parsed{DSN: d}, nil
}
