// Package imapserver is posthorn's own IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) server
// engine, over the metadata store (package store), the blob store (package blob) and the
// delivery committer (package delivery). One file per command; the grammar is in parser.go and
// the parse_*.go files, the response encoders for message data in package wire.
//
// # Commands
//
// A command is read line by line from the connection (parser.go). Literals: a synchronizing
// literal {n} is asked for with "+ " once the command so far is known to be acceptable in the
// session's state; a non-synchronizing one {n+} (LITERAL+, RFC 7888) is read at once. String
// literals are held in memory up to maxLiteral octets and a whole command up to maxCommand;
// beyond that the command is refused with BAD [TOOBIG] and its non-synchronizing literals are
// read and dropped. APPEND's message is the exception: it is streamed from the connection into
// a new blob, up to AppendLimit octets (NO [TOOBIG] beyond).
package imapserver
