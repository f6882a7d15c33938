// Package wire writes what an IMAP FETCH response says about a message: strings in the forms
// the grammar allows, ENVELOPE, BODY and BODYSTRUCTURE, and the text of BODY[section] and
// BINARY[section] items (RFC 9051, IMAP4rev2; RFC 3501, IMAP4rev1; RFC 3516, BINARY).
//
// Everything here is a pure function over a *bufio.Writer and, for section text, the stored
// message as an io.ReaderAt with its structure from the message package: nothing is parsed again
// but the octets a section asks for. The functions write one response item each; the caller
// writes the "* 12 FETCH (" around them and the item names ("BODY[1.2]<0> ").
//
// # Strings
//
// A value goes as an atom, a quoted string or a literal (StringForm): quoted when the grammar
// allows (no NUL, CR or LF, 8-bit only as valid UTF-8 and only when the session allows UTF-8),
// a literal otherwise. Where the grammar says nstring, an empty value is NIL. The utf8 argument
// the writers take says whether UTF-8 may go in quoted strings: true in an IMAP4rev2 session or
// after ENABLE UTF8=ACCEPT (RFC 6855), false otherwise.
//
// # Sections
//
// A Section is the section-spec between the brackets of BODY[...], which the server's command
// parser reads (package imapserver, parse_fetch.go: the one grammar of sections); the <partial>
// after it is a Partial, which the writers apply to the octets they write. Section.Range maps a section to a byte range of the stored message by the offsets the message
// package records; WriteSection writes that range as a literal, filtering the header for
// HEADER.FIELDS and HEADER.FIELDS.NOT. WriteBinary and BinarySize decode base64 and
// quoted-printable parts for BINARY[...] and BINARY.SIZE[...]; any other encoding gives
// ErrUnknownCTE, which the caller answers with NO [UNKNOWN-CTE].
//
// A section the message does not have gives an empty string, as in Dovecot. Where the RFCs leave
// a choice, this package does what Dovecot does, and says so.
//
// # Errors
//
// Writes to the *bufio.Writer are not checked one by one: a bufio.Writer keeps its first error
// and reports it from every later Write and from Flush, which the caller checks. Errors the
// functions return come from reading the stored message, or say that a section is not one the
// writer takes (ErrBadSection: BINARY of a section that names more than a part).
package wire
