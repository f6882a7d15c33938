package feedback

import (
	"bytes"
	"errors"
	"io"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
)

// ErrNotDSN is returned by ParseDSN for a message that is no delivery status notification and
// names no status either.
var ErrNotDSN = errors.New("not a delivery status notification")

// maxRecipients bounds the recipients read from one notification.
const maxRecipients = 1000

// DSN is a delivery status notification (RFC 3464), or what a non-standard bounce said.
type DSN struct {
	// Standard is set when the notification had a message/delivery-status part; when it is
	// clear, the recipients were found in the text of a non-standard bounce.
	Standard bool
	// ReportingMTA is the per-message Reporting-MTA field (RFC 3464 §2.2.2), type removed.
	ReportingMTA string
	Recipients   []Recipient
	// Original is the header of the returned message (a message/rfc822 or
	// text/rfc822-headers part), nil if there was none.
	Original *ReportedMessage
}

// Recipient is one per-recipient group of a DSN (RFC 3464 §2.3).
type Recipient struct {
	// FinalRecipient is the address of Final-Recipient (§2.3.2) without its type, as given.
	FinalRecipient string
	// OriginalRecipient is the address of Original-Recipient (§2.3.1), if present.
	OriginalRecipient string
	// Action is the lower-case Action (§2.3.3): failed, delayed, delivered, relayed,
	// expanded; empty if absent.
	Action string
	// Status is the enhanced status code (§2.3.4); when the Status field is missing or bad,
	// the one in the diagnostic code, if any.
	Status    Status
	HasStatus bool
	// DiagnosticCode is the text of Diagnostic-Code (§2.3.6), its type ("smtp;") removed.
	DiagnosticCode string
	// RemoteMTA is the name in Remote-MTA (§2.3.5), its type removed.
	RemoteMTA string
	// Bounce is the classification: see ParseDSN.
	Bounce Bounce
}

// ParseDSN reads a delivery status notification from r within lim.
//
// A standard one is a multipart/report (RFC 6522) with a message/delivery-status part
// (RFC 3464; message/global-delivery-status of RFC 6533 as well), at any depth up to four
// multiparts, whatever its report-type says. That part is read leniently: per-recipient
// groups are told apart by their Final-Recipient field as well as by blank lines, since
// some MTAs leave the blank lines out or double them, and field order does not matter.
//
// Each recipient's Bounce: Action "failed" is classified from the status (ClassifyStatus),
// or from the SMTP reply code in the Diagnostic-Code when there is no status
// (ClassifyReply), or soft when neither says anything, since a report that says too little
// to act on should not suppress an address at once (three soft bounces still do).
// "delayed", "delivered", "relayed" and "expanded" are NoBounce: a delayed message is still
// being tried. A group without an Action is classified from its status alone.
//
// A message without a delivery-status part is searched, within MaxPart of its text, for
// lines that carry a status: "Status: 5.1.1", or an SMTP reply with an enhanced code
// ("550 5.1.1 ...", "550-5.1.1 ...", Postfix's "said: 550 5.1.1 ..."). Each such line gives a
// failed recipient, named by the nearest address on that line or the lines just before
// (FinalRecipient empty if none), with Standard clear. So is the text of a message whose
// delivery-status part holds no recipient group. With no such line, ErrNotDSN.
func ParseDSN(r io.Reader, lim Limits) (*DSN, error) {
	c, err := collect(r, lim)
	if err != nil {
		return nil, err
	}
	return dsnFrom(c)
}

func dsnFrom(c *collected) (*DSN, error) {
	d := &DSN{}
	if c.original != nil {
		d.Original = reportedMessage(c.original)
	}
	if c.status != nil {
		parseDeliveryStatus(c.status, d)
		if len(d.Recipients) > 0 {
			d.Standard = true
			return d, nil
		}
		// A delivery-status part with no recipient group in it (some gateways mangle it):
		// the text may still say what happened.
	}
	d.Recipients = scanText(c.text)
	if len(d.Recipients) == 0 {
		return nil, ErrNotDSN
	}
	return d, nil
}

// parseDeliveryStatus reads the fields of a message/delivery-status body (RFC 3464 §2.1).
func parseDeliveryStatus(body []byte, d *DSN) {
	var cur *Recipient
	var groupHas = map[string]bool{} // the fields of the current group, to see a new one start
	finish := func() {
		if cur != nil {
			finishRecipient(cur)
			d.Recipients = append(d.Recipients, *cur)
			cur = nil
		}
		clear(groupHas)
	}
	lines := bytes.Split(body, []byte("\n"))
	var field []byte
	handle := func() {
		if len(field) == 0 {
			return
		}
		f := field
		field = nil
		name, value, ok := bytes.Cut(f, []byte(":"))
		if !ok {
			return
		}
		key := textproto.CanonicalMIMEHeaderKey(string(bytes.TrimSpace(name)))
		v := strings.TrimSpace(string(value))
		perRecipient := key == "Final-Recipient" || key == "Original-Recipient" || key == "Action" ||
			key == "Status" || key == "Diagnostic-Code" || key == "Remote-Mta"
		if !perRecipient {
			if key == "Reporting-Mta" && d.ReportingMTA == "" {
				d.ReportingMTA = stripType(v)
			}
			return
		}
		// A field the current group already has starts the next recipient.
		if cur != nil && groupHas[key] {
			finish()
		}
		if cur == nil {
			if len(d.Recipients) >= maxRecipients {
				return
			}
			cur = &Recipient{}
		}
		groupHas[key] = true
		switch key {
		case "Final-Recipient":
			cur.FinalRecipient = stripAddress(stripType(v))
		case "Original-Recipient":
			cur.OriginalRecipient = stripAddress(stripType(v))
		case "Action":
			cur.Action = strings.ToLower(firstWord(v))
		case "Status":
			cur.Status, cur.HasStatus = ParseStatus(v)
		case "Diagnostic-Code":
			cur.DiagnosticCode = stripType(v)
		case "Remote-Mta":
			cur.RemoteMTA = stripType(v)
		}
	}
	for _, line := range lines {
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(bytes.TrimSpace(line)) == 0:
			handle()
			finish()
		case line[0] == ' ' || line[0] == '\t':
			if field != nil {
				field = append(append(field, ' '), bytes.TrimSpace(line)...)
			}
		default:
			handle()
			field = append([]byte(nil), line...)
		}
	}
	handle()
	finish()
}

func finishRecipient(r *Recipient) {
	code := 0
	if m := replyPattern.FindStringSubmatch(r.DiagnosticCode); m != nil {
		if !r.HasStatus {
			r.Status, r.HasStatus = ParseStatus(m[2])
		}
	}
	if m := basicReplyPattern.FindStringSubmatch(r.DiagnosticCode); m != nil {
		code, _ = strconv.Atoi(m[1])
	}
	switch r.Action {
	case "failed":
		switch {
		case r.HasStatus:
			r.Bounce = ClassifyStatus(r.Status)
		case code != 0:
			r.Bounce = ClassifyReply(code, "")
		default:
			r.Bounce = SoftBounce
		}
		if r.Bounce == NoBounce {
			r.Bounce = SoftBounce // "failed" with a success code: contradictory, yet failed
		}
	case "":
		if r.HasStatus {
			r.Bounce = ClassifyStatus(r.Status)
		}
	}
}

var (
	// An SMTP reply with an enhanced code: "550 5.1.1", "550-5.1.1", "550 #5.1.1".
	replyPattern = regexp.MustCompile(`(?:^|[^0-9.])([245][0-9][0-9])[ -]#?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)`)
	// A "Status:" line of a non-standard bounce.
	statusPattern = regexp.MustCompile(`(?i)\bstatus:\s*([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|$)`)
	// The reply code at the start of a diagnostic: "550 user unknown", "500 (err.nosuchuser)".
	basicReplyPattern = regexp.MustCompile(`^\s*([2-5][0-9][0-9])(?:[ -]|$)`)
	// An address in a bounce's text.
	addressPattern = regexp.MustCompile(`[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?`)
)

// scanText finds the statuses of a non-standard bounce (see ParseDSN).
func scanText(text []byte) []Recipient {
	var out []Recipient
	seen := map[string]bool{}
	lines := unfoldLines(string(text))
	for i, line := range lines {
		var status string
		var diag string
		if m := statusPattern.FindStringSubmatch(line); m != nil {
			status = m[1]
		} else if m := replyPattern.FindStringSubmatch(line); m != nil {
			status = m[2]
			diag = strings.TrimSpace(line[strings.Index(line, m[1]):])
		}
		if status == "" {
			continue
		}
		s, ok := ParseStatus(status)
		if !ok {
			continue
		}
		addr := nearestAddress(lines, i)
		key := strings.ToLower(addr)
		if seen[key] {
			continue
		}
		seen[key] = true
		b := ClassifyStatus(s)
		if b == NoBounce {
			continue // a success or an unknown class says nothing about a failure
		}
		out = append(out, Recipient{FinalRecipient: addr, Action: "failed", Status: s, HasStatus: true,
			DiagnosticCode: diag, Bounce: b})
		if len(out) >= maxRecipients {
			break
		}
	}
	return out
}

// unfoldLines splits text into lines and joins each indented line to the one before, as
// Postfix and others wrap a long reply ("said: 550\n    5.1.1 <a@b>: ...").
func unfoldLines(text string) []string {
	var lines []string
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if n := len(lines); n > 0 && line != "" && (line[0] == ' ' || line[0] == '\t') && lines[n-1] != "" {
			lines[n-1] += " " + strings.TrimSpace(line)
			continue
		}
		lines = append(lines, line)
	}
	return lines
}

// nearestAddress returns the first address on line i, or on one of the three lines before it.
func nearestAddress(lines []string, i int) string {
	for j := i; j >= 0 && j >= i-3; j-- {
		if all := addressPattern.FindAllString(lines[j], -1); len(all) > 0 {
			return strings.TrimRight(all[0], ".")
		}
	}
	return ""
}

// stripType removes the type of a DSN field value: "rfc822; a@b" -> "a@b" (RFC 3464 §2.1.2).
func stripType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return strings.TrimSpace(rest)
	}
	return strings.TrimSpace(v)
}

// stripAddress removes angle brackets around an address.
func stripAddress(v string) string {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "<") && strings.HasSuffix(v, ">") {
		v = strings.TrimSpace(v[1 : len(v)-1])
	}
	return v
}

func firstWord(v string) string {
	if i := strings.IndexAny(v, " \t("); i >= 0 {
		return v[:i]
	}
	return v
}
