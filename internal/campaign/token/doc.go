// Package token signs and verifies the identifiers that campaign mail carries into the world:
// the open pixel, rewritten links, the view-in-browser and unsubscribe links, the VERP bounce
// address, the double opt-in confirmation link and the preferences link.
//
// # Format
//
// A token is the lower-case base32 text (RFC 4648 §6 alphabet, lower-cased, no padding) of
//
//	payload || mac
//
// where payload is one kind byte followed by the kind's fields as unsigned varints
// (encoding/binary), and mac is the first 10 bytes (80 bits) of
//
//	HMAC-SHA256(key, "posthorn-campaign-v1" || payload || extra)
//
// extra is empty except for Click, where it is the link's target URL: a token for one link
// cannot be replayed against another URL, so a link token is never an open redirect.
// Lower-case base32 is safe in URL paths and in SMTP local parts, which some relays lower-case.
//
// Kinds and fields:
//
//	Open         campaign id, recipient id        GET /t/o/TOKEN.gif
//	Click        campaign id, recipient id, link  GET /t/c/TOKEN (extra: the target URL)
//	View         campaign id, recipient id        GET /t/v/TOKEN
//	Unsubscribe  campaign id, recipient id        /u/TOKEN, and unsubscribe+TOKEN@DOMAIN
//	Bounce       campaign id, recipient id        bounce+TOKEN@DOMAIN (the VERP sender)
//	Confirm      subscription id, expiry (unix s) /s/confirm/TOKEN
//	Preferences  subscriber id                    /p/TOKEN
//
// Recipient id 0 is the anonymous mode: the event counts for the campaign but names nobody.
// Identifiers are non-negative; a field that does not fit an int64 is refused on the way in.
//
// # Verification
//
// Verify methods accept exactly the text their Sign counterpart produces and nothing else:
// the text must be canonical lower-case base32 (re-encoding the decoded bytes gives the same
// text, so no two texts name one token), the kind byte must match, the varints must be minimal
// and fill the payload exactly, and the MAC is compared in constant time (crypto/hmac.Equal).
// Every failure is ErrInvalid, whatever its cause, so that an answer reveals nothing; a
// Confirm token that is genuine but past its expiry is ErrExpired, so the web can offer a new
// link. A Signer whose key is shorter than MinKeyLen verifies nothing.
//
// The key is 32 random bytes kept in the store, the same on every node and after a restore.
//
// # VERP addresses
//
// BounceAddress and UnsubscribeAddress build "bounce+TOKEN@domain" and
// "unsubscribe+TOKEN@domain"; ParseAddress takes them back, case-insensitively, since mail
// systems may change the case of a local part (RFC 5321 §2.4 lets the receiving host decide).
package token
