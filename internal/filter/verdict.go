package filter

import (
	"fmt"
	"strings"
)

// Action is what happens to a message (or to a session, or a recipient) after the checks.
type Action int

// Actions, from the mildest to the strongest: when checks disagree, the strongest wins, except
// that a permanent rejection is stronger than a temporary failure (a sender that would be
// rejected after its retry should hear so now).
const (
	Accept   Action = iota // deliver to INBOX
	Junk                   // deliver to Junk
	TempFail               // 4xx: try again later
	Reject                 // 5xx: do not try again
)

func (a Action) String() string {
	switch a {
	case Accept:
		return "accept"
	case Junk:
		return "junk"
	case TempFail:
		return "tempfail"
	case Reject:
		return "reject"
	}
	return fmt.Sprintf("action(%d)", int(a))
}

// Reason is one named finding of a check. Name is a fixed token for the mail log and metrics
// ("virus", "dmarc-reject", "attachment-executable"); Detail is for the log only (a virus
// signature, a file name) and never reaches the SMTP reply.
type Reason struct {
	Name   string
	Detail string
}

func (r Reason) String() string {
	if r.Detail == "" {
		return r.Name
	}
	return r.Name + "(" + r.Detail + ")"
}

// Header is a header field the verdict adds on top of the stored message.
type Header struct {
	Name, Value string
}

// Verdict is the one decision of the filter for a connection, a recipient or a message.
//
// Code, Enhanced and Text are the SMTP reply (RFC 5321 §4.2, RFC 3463) for TempFail and Reject;
// Text is public and says what happened in general terms, never which list, host or setting
// decided. Reasons name every finding, for the mail log and the metrics.
type Verdict struct {
	Action   Action
	Code     int
	Enhanced [3]int
	Text     string
	Reasons  []Reason
	// AuthResults is the Authentication-Results header field (RFC 8601) to prepend, name and
	// CRLF included; "" for none.
	AuthResults string
	// Headers are other fields to prepend, e.g. X-Posthorn-Virus-Scan when clamd could not scan.
	Headers []Header
	// JunkAccounts are the accounts whose copy goes to Junk although Action is Accept: a
	// per-account spam model or list decided for that recipient only.
	JunkAccounts map[int64]bool

	decidedBy string // the name of the reason whose action won
}

// Mailbox is where the copy of account goes when the verdict accepts the message.
func (v *Verdict) Mailbox(account int64) string {
	if v.Action == Junk || v.JunkAccounts[account] {
		return "Junk"
	}
	return "INBOX"
}

// ReasonNames renders the reasons for the mail log: "virus(Eicar-Test),spf-fail".
func (v *Verdict) ReasonNames() string {
	parts := make([]string, len(v.Reasons))
	for i, r := range v.Reasons {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

// Result is the verdict's one-word outcome for the mail log's result key: the name of the
// reason that decided, or the action when none did.
func (v *Verdict) Result() string {
	if v.decidedBy != "" {
		return v.decidedBy
	}
	return v.Action.String()
}

// Reply renders the SMTP reply code for the mail log: "554 5.7.1".
func (v *Verdict) Reply() string {
	if v.Code == 0 {
		return ""
	}
	return fmt.Sprintf("%d %d.%d.%d", v.Code, v.Enhanced[0], v.Enhanced[1], v.Enhanced[2])
}

// decision is one check's contribution: an action with its reply and the reason that decided.
type decision struct {
	action   Action
	code     int
	enhanced [3]int
	text     string
	reason   Reason
}

// Replies of the checks, RFC 5321 §4.2 with RFC 3463 enhanced codes.
func reject(reason Reason, code int, enhanced [3]int, text string) decision {
	return decision{action: Reject, code: code, enhanced: enhanced, text: text, reason: reason}
}

func tempFail(reason Reason, code int, enhanced [3]int, text string) decision {
	return decision{action: TempFail, code: code, enhanced: enhanced, text: text, reason: reason}
}

func junk(reason Reason) decision { return decision{action: Junk, reason: reason} }

// note records a reason without changing the action.
func note(reason Reason) decision { return decision{action: Accept, reason: reason} }

// add merges d into v: its reason is kept, and its action replaces v's when stronger.
func (v *Verdict) add(d decision) {
	if d.reason.Name != "" {
		v.Reasons = append(v.Reasons, d.reason)
	}
	if d.action > v.Action || v.decidedBy == "" && d.action == v.Action && d.action != Accept {
		v.Action = d.action
		v.Code, v.Enhanced, v.Text = d.code, d.enhanced, d.text
		v.decidedBy = d.reason.Name
	}
}
