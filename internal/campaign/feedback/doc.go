// Package feedback reads what comes back from campaign mail: delivery status notifications
// (RFC 3464) arriving at the VERP address, ARF feedback reports (RFC 5965) arriving at the
// abuse address or from providers' complaint loops, and the SMTP replies of the queue's own
// failed attempts, and classifies each failure as a hard or a soft bounce.
//
// # How a message is read
//
// ParseDSN, ParseARF and Parse stream the message once through mime/multipart. They follow
// multipart bodies (RFC 2046 §5.1) up to four levels deep and a hundred parts, undo base64
// and quoted-printable (RFC 2045 §6), and keep in memory only what they need, each piece
// within Limits.MaxPart: the machine-readable part (message/delivery-status, RFC 3464 §2;
// message/global-delivery-status, RFC 6533 §3; message/feedback-report, RFC 5965 §3), the
// header of the returned message (message/rfc822, message/global, text/rfc822-headers,
// message/global-headers; its body is skipped), and the first MaxPart bytes of the text.
// A machine-readable part or a header over MaxPart is refused with ErrTooLarge, as is input
// over Limits.MaxMessage; everything else is discarded as it is read.
//
// Fields are read leniently, as RFC 5322 §2.2 header fields with folding, names
// case-insensitive, lines that are not fields skipped, because reporting MTAs are many and
// careless: blank lines between DSN groups are missing or doubled, fields come in any
// order, Status is missing, Arrival-Date is Received-Date.
//
// # Classification
//
// ClassifyStatus holds the table of enhanced status codes (RFC 3463) with the reason for
// each row; ClassifyReply applies it to an SMTP reply (RFC 5321 §4.2) and falls back to the
// reply code. A DSN's recipients are classified from their Action and Status (see ParseDSN).
// A non-standard bounce is searched for a "Status:" line or an SMTP reply with an enhanced
// code in its text.
//
// # Finding the campaign and recipient
//
// The parsers do not verify anything: they return what the report says. The caller finds
// the campaign and recipient from the envelope recipient (the VERP address of a DSN), or
// from the returned message's header (ReportedMessage: Return-Path, List-Unsubscribe,
// Feedback-ID, Message-ID), and verifies the token there (campaign/token).
package feedback
