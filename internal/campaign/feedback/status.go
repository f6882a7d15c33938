package feedback

import (
	"fmt"
	"strconv"
	"strings"
)

// Bounce is the classification of a delivery failure.
type Bounce int

// The classifications. A hard bounce suppresses the address at once; a soft one counts
// towards the soft-bounce limit; NoBounce is not a failure of the address (delivered,
// relayed, delayed, or no verdict).
const (
	NoBounce Bounce = iota
	SoftBounce
	HardBounce
)

func (b Bounce) String() string {
	switch b {
	case SoftBounce:
		return "soft"
	case HardBounce:
		return "hard"
	}
	return "none"
}

// Status is an enhanced mail system status code (RFC 3463 §2): class.subject.detail.
type Status struct {
	Class   int // 2 success, 4 persistent transient failure, 5 permanent failure
	Subject int // 0 to 999
	Detail  int // 0 to 999
}

func (s Status) String() string { return fmt.Sprintf("%d.%d.%d", s.Class, s.Subject, s.Detail) }

// ParseStatus reads an enhanced status code such as "5.1.1" at the start of s (what follows
// it after white space, such as "(permanent failure)", is ignored).
func ParseStatus(s string) (Status, bool) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t("); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Status{}, false
	}
	var n [3]int
	for i, p := range parts {
		// RFC 3463 §2: class is one digit, subject and detail 1 to 3 digits.
		if p == "" || len(p) > 3 || (i == 0 && len(p) != 1) {
			return Status{}, false
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 || p[0] == '+' {
			return Status{}, false
		}
		n[i] = v
	}
	if n[0] != 2 && n[0] != 4 && n[0] != 5 {
		return Status{}, false
	}
	return Status{Class: n[0], Subject: n[1], Detail: n[2]}, true
}

// ClassifyStatus classifies an enhanced status code.
//
// 2.x.x is no bounce, 4.x.x soft. A 5.x.x code is hard when it says the address is no good,
// and soft when the failure lies with the message, with the sender, or with a policy or
// system state that may change while the address stays valid:
//
//	5.0.0        hard  other or undefined permanent failure; sendmail and others give it
//	                   for unknown users
//	5.1.x        hard  addressing (5.1.1 bad mailbox, 5.1.2 bad domain, 5.1.6 moved, 5.1.10
//	                   null MX), except
//	5.1.7, 5.1.8 soft  bad sender's address: the fault is ours (the VERP sender), not the
//	                   recipient's
//	5.2.1        hard  mailbox disabled (Gmail and others: the account is closed)
//	5.2.x        soft  other mailbox status: 5.2.2 mailbox full, 5.2.3 message too long for
//	                   the mailbox, 5.2.4 list expansion: the mailbox exists
//	5.3.x        soft  the destination system (full, not accepting network mail, message too
//	                   big): the state of a system, not of the address
//	5.4.1        hard  "no answer from host" in RFC 3463, but in practice Exchange Online's
//	                   directory-based edge blocking: "Recipient address rejected: Access
//	                   denied", the recipient does not exist
//	5.4.4        hard  unable to route: the domain does not exist or has no mail host
//	5.4.x        soft  other network and routing failures (bad connection, loops, expiry)
//	5.5.x        soft  protocol errors: the fault is in our SMTP dialogue, not the address
//	5.6.x        soft  content (conversion, media not supported): this message, not the
//	                   address
//	5.7.13       hard  user account disabled (IANA enhanced status code registry, RFC 5248)
//	5.7.x        soft  security and policy: spam and content refusals (5.7.1), DMARC, SPF,
//	                   DKIM and reputation failures (5.7.20 to 5.7.27, RFC 7372, RFC 7505)
//	                   reject this message or this sender, and the address keeps working
//	other 5.x.x  hard  a permanent failure we know nothing more about
func ClassifyStatus(s Status) Bounce {
	switch s.Class {
	case 2:
		return NoBounce
	case 4:
		return SoftBounce
	case 5:
	default:
		return NoBounce
	}
	switch s.Subject {
	case 1:
		if s.Detail == 7 || s.Detail == 8 {
			return SoftBounce
		}
		return HardBounce
	case 2:
		if s.Detail == 1 {
			return HardBounce
		}
		return SoftBounce
	case 3, 5, 6:
		return SoftBounce
	case 4:
		if s.Detail == 1 || s.Detail == 4 {
			return HardBounce
		}
		return SoftBounce
	case 7:
		if s.Detail == 13 {
			return HardBounce
		}
		return SoftBounce
	}
	return HardBounce
}

// ClassifyReply classifies an SMTP reply (RFC 5321 §4.2) with its enhanced status code, if
// any (RFC 2034: the code after the reply code, such as "5.1.1"; empty when the server sent
// none), as the queue sees it when a delivery attempt fails.
//
// When the enhanced code is valid and its class agrees with the reply code's first digit
// (RFC 3463 §2 requires it), the enhanced code decides (ClassifyStatus). Otherwise the reply
// code decides: 2xx and 3xx are no bounce, 4xx soft; among 5xx, 552 (exceeded storage
// allocation, RFC 5321 §4.2.2, and the mailbox-full reply of many servers) and 500 to 504
// (syntax and sequence errors in our own commands, RFC 5321 §4.2.1 "x0z") are soft, and
// every other 5xx (550 mailbox unavailable, 551, 553 mailbox name not allowed, 554
// transaction failed) is hard. A code outside 200 to 599 is no bounce.
func ClassifyReply(code int, enhanced string) Bounce {
	if code < 200 || code > 599 {
		return NoBounce
	}
	if s, ok := ParseStatus(enhanced); ok && s.Class == code/100 {
		return ClassifyStatus(s)
	}
	switch {
	case code < 400:
		return NoBounce
	case code < 500:
		return SoftBounce
	case code == 552 || code <= 504:
		return SoftBounce
	}
	return HardBounce
}
