// Package message computes, once at delivery, everything an IMAP4rev2 server later needs to know
// about a stored RFC 5322 message, so that FETCH ENVELOPE, BODYSTRUCTURE and BODY[section] never
// parse the message again.
//
// # What is kept
//
// Parse streams through the message and returns a Parsed: the top-level Envelope (RFC 9051 §7.5.2
// ENVELOPE) and a tree of Parts (RFC 9051 §7.5.2 BODYSTRUCTURE). Marshal encodes both in a small
// binary form (see encode.go) that the store keeps beside the message; UnmarshalEnvelope and
// UnmarshalStructure read it back.
//
// Header values are kept raw: unfolded (each CRLF that precedes white space removed, the white
// space kept) and trimmed, but never decoded. IMAP returns the still-encoded RFC 2047 words of a
// subject or display name, and 8-bit (RFC 6532) bytes pass through unchanged.
//
// Case: media types, subtypes, parameter names, disposition types and transfer encodings are
// lower-cased, since they are case-insensitive (RFC 2045 §5.1, §6.1; RFC 2183 §2); the IMAP layer
// upper-cases where it wants to ("TEXT" "PLAIN"). Parameter values, addresses, and every other
// value keep the case they were given in.
//
// Defaults: a part without a valid Content-Type is text/plain; charset=us-ascii (RFC 2045 §5.2),
// except inside multipart/digest, where it is message/rfc822 (RFC 2046 §5.1.5). A part without
// Content-Transfer-Encoding has "7bit" (RFC 2045 §6.1). An ENVELOPE's sender and reply-to are
// the from list when their header is absent or empty (RFC 9051 §7.5.2).
//
// # Offsets
//
// Every Part records three absolute byte offsets into the stored message, so that the IMAP layer
// serves any section by reading a byte range:
//
//	HeaderStart  first byte of the part's header: 0 for the message itself, the byte after the
//	             boundary line for a part of a multipart, the parent's BodyStart for the root of
//	             an encapsulated message/rfc822
//	BodyStart    first byte after the blank line that ends the header (the header range
//	             [HeaderStart, BodyStart) includes that blank line)
//	BodyEnd      end of the body: the end of the message or of the enclosing body, or the start
//	             of the line break that precedes the next boundary line, since that line break
//	             belongs to the boundary (RFC 2046 §5.1.1)
//
// So for a part P at section S (RFC 9051 §6.4.5):
//
//	BODY[S]         [P.BodyStart, P.BodyEnd)
//	BODY[S.MIME]    [P.HeaderStart, P.BodyStart)
//	BODY[S.HEADER]  [M.HeaderStart, M.BodyStart) with M = P.Message, the encapsulated root
//	BODY[S.TEXT]    [M.BodyStart, M.BodyEnd)
//	BODY[HEADER]    [Root.HeaderStart, Root.BodyStart), and BODY[TEXT] likewise
//
// Invariants, which UnmarshalStructure checks again: HeaderStart <= BodyStart <= BodyEnd; every
// child lies within its parent's body, children in order and not overlapping; an encapsulated
// root spans exactly its parent's body. A header that ends without a blank line (at the end of the
// message, or at a boundary) gives an empty body at its end.
//
// Sizes and line counts are of the stored bytes: a message stored with bare LF line endings
// counts them as they are. Lines is the number of lines that start inside the body, so a last
// line without a line break counts too.
//
// # Malformed input and limits
//
// Parse never fails on content: it returns an error only when the reader does. Malformed MIME is
// read as the widely deployed IMAP servers read it: a multipart without a usable boundary, or one
// in which no boundary line is found, becomes a single text/plain part; a part whose boundary
// never closes ends at the next boundary of an enclosing multipart, or at the end of the message;
// a header line that is not a field is skipped; an address that lacks its local part or domain
// gets Dovecot's placeholder (MISSING_MAILBOX, MISSING_DOMAIN) rather than vanishing.
//
// Hostile input is bounded in memory and time: at most MaxDepth levels of nesting (multipart
// and message/rfc822 together) and MaxParts parts; a part that would exceed either is kept as
// a leaf (a multipart one as text/plain, a message/rfc822 one without its Message). Of a header,
// Parse keeps only the fields it uses, the first occurrence of each, up to maxFieldSize octets
// each and maxHeaderBytes over the whole message; an address list yields at most maxAddresses
// addresses. Lines are read through a fixed buffer, so a long line costs no memory, and Parse is
// linear in the size of the message.
package message
