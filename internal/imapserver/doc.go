// Package imapserver is posthorn's own IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501) server
// engine, over the metadata store (package store), the message bodies (package bodystore) and
// the delivery committer (package delivery). One file per command, holding the type of its
// arguments, their parser and the handler that runs it; the lexer they all read with is in
// parser.go, and FETCH's data items, the longest grammar, in parse_fetch.go beside fetch.go.
// The response encoders for message data are in package wire.
//
// # Connections
//
// Server.Serve takes plain connections (STARTTLS), Server.ServeTLS implicit-TLS ones; package
// netserver runs the accept loop, the connection limits (in total, and per client address,
// over which a connection gets "* BYE [UNAVAILABLE]"), the command deadlines (a connection must
// log in within LoginTimeout, 60 s by default, whatever it sends meanwhile; after the login a
// command line must be complete within IdleTimeout, 30 minutes) and the shutdown. Each
// connection has one goroutine, a 4 KiB read buffer and a 4 KiB write buffer, and nothing else
// while it waits for a command (about 19 KiB per idle session with a mailbox selected; see
// TestIdleConnectionMemory); IDLE adds a second goroutine that waits for DONE. Commands are
// executed in the order they arrive; responses are flushed when no further command waits in
// the read buffer, so a pipelining client (RFC 9051 §5.5) gets its answers in few packets and in
// order. Shutdown sends "* BYE" to every session that waits for a command or idles, lets the
// others finish their command first, and closes what is left when its context ends.
//
// Logins (LOGIN, AUTHENTICATE PLAIN or SCRAM-SHA-256, with SASL-IR) go through the shared
// credentials.Authenticator, which throttles failures per IP address and per account for every
// protocol; the SCRAM exchange is auth.LineExchange, the framing POP3 AUTH shares. Without TLS
// they are refused (LOGINDISABLED, NO [PRIVACYREQUIRED]) unless AllowInsecureAuth is set and
// the client is on a loopback address.
//
// A store that does not answer (the database is lost, a connection was cut: store.IsTemporary,
// anything but a definite answer such as store.ErrNotFound) fails the command with a tagged
// NO [UNAVAILABLE] (RFC 5530 §3; session.go's failure is the one place that decides), LOGIN and
// AUTHENTICATE included, which then count as no failed login for the throttling and never say
// "invalid credentials"; APPEND's OK waits for a commit that returned nil, as always. The
// session stays, in the state it was in (a failed SELECT leaves no mailbox selected, RFC 9051
// §6.3.2), and keeps nothing of the failure: changes it could not read are read at the next
// command, and IDLE goes on idling and tries again at its next keepalive or change.
//
// # Commands
//
// One table (command.go) names every command with the session states it is valid in, its
// parser and its handler; a command with a UID form (RFC 9051 §6.4.9) is marked there, and
// "UID FETCH" and the like run the same parser and handler with command.uid set. A command not
// valid in the session's state is refused before its arguments are read.
//
// A command is read line by line from the connection (parser.go). Literals: a synchronizing
// literal {n} is asked for with "+ " once the command so far is known to be acceptable in the
// session's state; a non-synchronizing one {n+} (LITERAL+, RFC 7888) is read at once. String
// literals are held in memory up to maxLiteral octets and a whole command up to maxCommand;
// beyond that the command is refused with BAD [TOOBIG] and its non-synchronizing literals are
// read and dropped. APPEND's message is the exception: it is streamed from the connection into
// a new delivery.Draft, up to AppendLimit octets (NO [TOOBIG] beyond), and committed, which
// parses it once for its envelope, structure and text; the tagged OK is written only when the
// message is durable, as for SMTP.
//
// # The selected mailbox
//
// A session keeps the UIDs of its selected mailbox as runs of consecutive UIDs (uidList): the
// sequence numbers the client knows are positions in it. Other sessions and deliveries change
// the mailbox at any time; the account's change feed (store.Subscribe) says so, and at the end
// of the next command (at once in IDLE) the session reads what changed since the highest MODSEQ
// it knows and tells the client: EXISTS for new messages, FETCH (UID FLAGS [MODSEQ]) for flag
// changes, EXPUNGE (VANISHED with QRESYNC) for removals. A removal is never announced while
// answering FETCH, STORE or SEARCH (RFC 9051 §7.5.1): it waits for a later command, and until
// then the message keeps its number and matches nothing.
//
// FLAGS, UID, INTERNALDATE, RFC822.SIZE and MODSEQ come from the message rows, ENVELOPE and
// BODYSTRUCTURE from the parse results stored at delivery; BODY[...] and BINARY[...] read only
// the octets they need from the message body (Server.Bodies, a bodystore.Bodies: the server
// knows no body backend; APPEND writes through a delivery.Draft). SEARCH evaluates flags,
// dates, sizes, UIDs and MODSEQ on the message rows and addresses and subjects on the stored
// envelope, cheap keys first; HEADER reads the message's header. BODY and TEXT ask the store's
// full-text index (store.SearchText) once per search, before any message is looked at; a
// message the index has no text of (delivered before it existed) and a string too short for it
// (under three characters) are decided by extracting the message's text as delivery does
// (message.ExtractText), so both ways give the same answer: a case-insensitive substring of the
// text a reader sees, with white space runs compared as one space.
//
// \Recent (RFC 3501 §2.3.2) is kept for IMAP4rev1 sessions, those that have not sent ENABLE
// IMAP4rev2: RFC 9051 dropped the flag, the RECENT response and the RECENT, NEW and OLD search
// keys, and an IMAP4rev2 session never sees them. As in Dovecot, one session sees a new message
// as recent: the store keeps per mailbox the lowest UID no session has claimed, and the first
// IMAP4rev1 session that selects the mailbox read-write, or has it selected when the message
// arrives, claims it (store.ClaimRecent); EXAMINE shows the unclaimed messages as recent and
// claims nothing. The session then reports "* n RECENT" at SELECT and with every EXISTS, \Recent
// in FLAGS, and STATUS RECENT counts the unclaimed messages (flags.go).
//
// FLAGS and PERMANENTFLAGS list the system flags and every keyword of the mailbox (the store
// keeps the list, which only grows, with the mailbox); PERMANENTFLAGS adds \*. A keyword the
// client has not been told of is announced with an untagged FLAGS (and PERMANENTFLAGS) before
// the first response that shows it, to every session that has the mailbox selected.
//
// Other choices where the RFCs leave one: a STORE reports the messages whose flags changed; a
// FETCH response carries each data item once, however often it was asked for; mailbox names
// are UTF-8 in the store and modified UTF-7 on the wire until the client enables IMAP4rev2 or
// UTF8=ACCEPT; CREATE makes the missing superior levels.
package imapserver
