// Package render turns a campaign's content into one RFC 5322 message per recipient. It is pure:
// no store, no network, no tokens — the per-recipient links come in through the Links interface
// that the caller implements (with signed tokens).
//
// # Templates
//
// Compile parses a campaign once: the subject and the text body with text/template, the HTML
// body with html/template (contextual escaping, so an attribute value cannot break out of its
// attribute), all in strict mode (Option("missingkey=error")). Templates see
//
//	.Name .Email .Attributes .Campaign .List (the first list's name) .Lists (all names)
//
// and the functions unsubscribe_url, view_url, preferences_url (from Links), attr "key" (the
// attribute, an error when absent), attr_or "key" fallback, date "layout" value (value a time, an
// RFC 3339 or 2006-01-02 string, or Unix seconds as a JSON number) and now. A missing map key or
// attribute is an error naming the template ("subject", "html" or "text"), its line and the field
// (*TemplateError).
//
// The per-recipient link functions are bound when a template is parsed, so each Campaign keeps a
// small free list of renderers: clones of the never-executed parsed templates whose functions
// read the renderer's current recipient. Render takes one, renders into its reused buffers,
// builds the message into w and puts it back; a campaign of any size holds as many renderers
// as renders ran at once. Render is safe for concurrent use.
//
// # The check before sending
//
// Check renders the templates (tracking off, into no output) once per distinct shape of the
// audience and returns the first failure as a *CheckError naming the subscriber and the field.
// A shape (ShapeOf) is the sorted set of attribute paths with the JSON kind of each value: null,
// bool, number, string, array or object; objects are walked, so {"a":{"b":1}} has the path "a.b"
// of kind number beside "a" of kind object; arrays are not walked. Two subscribers of one shape
// reach the same fields as far as presence and kind decide, which is what a missing-key error
// depends on; a template that branches on values ({{if eq .Attributes.plan "gold"}}{{attr
// "gold_code"}}{{end}}) can still fail for a value no sample had, so such fields are best read
// with attr_or. The caller streams one sample per shape (Check also skips repeated shapes).
//
// # Tracking
//
// With Content.Tracking and Recipient.Tracking (the subscriber's consent) both set, the rendered
// HTML is rewritten by a tokenizer (golang.org/x/net/html) that copies every token byte for byte
// except <a> start tags:
//
//   - an href with an http or https target becomes Links.ClickURL(idx, target); mailto: and other
//     schemes, the recipient's unsubscribe, preferences and view URLs, and anchors with a
//     data-notrack attribute (which is removed) are left alone;
//   - link indexes: at Compile every static href of the HTML template (no template action in it)
//     gets an index, in order of first appearance after Content.Links (the table kept from an
//     earlier Compile of the same campaign, so a restarted sender keeps its indexes). A rendered
//     target not in the table — one that depends on the recipient — is given the next index when
//     it is first rendered, and Content.NewLink is called with it before the message is built, so
//     the caller can store it; such targets are tracked per rendered URL, and the table grows by
//     one entry per distinct rendered URL. Campaign.Targets returns the table;
//   - before the first </body> (or at the end) come a hidden honeypot link — an empty anchor with
//     click index HoneypotLink (0, never a real link) and the view URL as target, inside a
//     display:none, aria-hidden element — and the open pixel
//     <img src="OpenURL" alt="" width="1" height="1">. A click on the honeypot is a machine.
//
// Without tracking the HTML is sent as rendered. The text part is never rewritten.
//
// # Text from HTML
//
// When a campaign has only HTML, the text part is made from the rendered HTML (before rewriting):
// paragraphs and blocks separated by blank lines, <br> as line breaks, list items as "- " or
// "1. ", headings as "# Heading", links as "text (url)", entities decoded, script, style, head
// and hidden elements dropped, words wrapped at 76 columns.
//
// # The message
//
// Build writes the header (RFC 5322 §3.6) — From, Reply-To, To, Subject (RFC 2047 encoded words
// when not ASCII), Date, Message-ID on the From domain, MIME-Version, List-Id (RFC 2919),
// List-Unsubscribe with an https and a mailto URI (RFC 2369) and List-Unsubscribe-Post:
// List-Unsubscribe=One-Click (RFC 8058), Feedback-ID (Gmail's campaign:list:sender form) — and a
// multipart/alternative body (RFC 2046 §5.1.4) of text/plain then text/html, each UTF-8 and
// quoted-printable (RFC 2045 §6.7); with only a text part, the body is that part alone.
// Precedence: bulk is not written: it is not a standard field (RFC 2076 lists it as
// non-standard), RFC 3834 reserves it for auto-replies, and Gmail's sender guidelines ask for
// List-Unsubscribe, not Precedence.
//
// Header injection is impossible by construction: every value that comes from a subscriber or a
// template (names, the subject) has each control character (C0, DEL, C1, U+2028, U+2029) replaced
// by a space before it is written; addresses are internal/address values (which admit no
// control characters); URLs and identifiers with a control character, a space or an angle
// bracket are refused. Long fields are folded at spaces before 78 columns (RFC 5322 §2.2.3).
package render
