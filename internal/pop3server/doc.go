// Package pop3server is posthorn's POP3 server: RFC 1939 (USER/PASS, STAT, LIST, RETR, DELE,
// NOOP, RSET, QUIT, TOP, UIDL; APOP is not offered), RFC 2449 (CAPA, response codes,
// PIPELINING), RFC 2595 (STLS), RFC 5034 (AUTH, with PLAIN) and the response codes of RFC 2449
// and RFC 3206 ([IN-USE], [LOGIN-DELAY], [SYS/TEMP], [AUTH]). It serves the same store as IMAP.
//
// # Connections
//
// Server.Serve takes plain connections (STLS), Server.ServeTLS implicit-TLS ones; package
// netserver runs the accept loop, the connection limits (in total and per client address, over
// which a connection gets "-ERR [IN-USE]"), the command deadlines and the graceful shutdown. Each
// connection has one goroutine, a 4 KiB read buffer and a 4 KiB write buffer; a message is sent
// through a 64 KiB read and a 64 KiB write buffer taken from pools for the time of one RETR or
// TOP, so a message of ordinary size leaves in one write. Commands
// are executed in the order they arrive, and responses are flushed when no further command
// waits in the read buffer, so a pipelining client gets its answers in few packets. A session that
// does not send a whole command line within LoginTimeout before login (60 s by default, a line
// trickled byte by byte included) or IdleTimeout after it is closed; Shutdown closes a session waiting for a command with
// "-ERR [SYS/TEMP]". Neither deletes anything: only QUIT does.
//
// Logins (USER/PASS, AUTH PLAIN, AUTH SCRAM-SHA-256) go through the shared
// credentials.Authenticator, which throttles failures per IP address and per account for every
// protocol; a refused attempt gets [LOGIN-DELAY]. The SCRAM exchange is auth.LineExchange, the
// framing IMAP AUTHENTICATE shares. Without TLS they are refused with [AUTH], and CAPA lists
// neither USER nor SASL, unless AllowInsecureAuth is set and the client is on a loopback
// address. SCRAM needs the account's SCRAM keys, derived whenever its password is set (see
// package credentials).
//
// A store that does not answer (the database is lost, a connection was cut: store.IsTemporary)
// gets -ERR [SYS/TEMP] (RFC 3206 §4; session.go's failure): a login that cannot check the
// password (which the throttling does not count as a failed login, and which never says
// [AUTH]), a maildrop that cannot be read, and QUIT's UPDATE, whose removal either commits
// before +OK or leaves every message in place. STAT, LIST, UIDL, RETR, TOP and DELE need only
// the maildrop read at login and the body store, and go on working. The next command asks the
// store again.
//
// # The maildrop
//
// The maildrop is the account's INBOX. A login takes the account's maildrop lock, held by one
// session of this server at a time (a second gets -ERR [IN-USE]) and, when the server has
// shared Leases (several nodes on one PostgreSQL), the lease store.MaildropLease of the
// account as well, under a token of the session's own: one session of all the nodes holds
// the maildrop. The session renews the lease every third of MaildropLeaseTTL and gives it back
// when it ends; a node that dies frees it after MaildropLeaseTTL, and a session whose renewal
// finds the lease gone is ended, deleting nothing. The login then reads the UID, size and
// body id of every message: message numbers are positions in that list for the whole session,
// and messages delivered later show in the next session. A message expunged through IMAP during
// the session keeps its number; RETR of it gets -ERR once its body is gone.
//
// Sizes in STAT and LIST are the octets of the stored message, which SMTP stores with CRLF line
// ends: what RETR sends, before byte-stuffing. UIDL gives UIDVALIDITY and UID as 16 hexadecimal
// digits: stable across sessions, shared with IMAP's view, never reused. RETR and TOP stream
// the body from the body store (Server.Bodies, a bodystore.Bodies) with byte-stuffing (a line
// that starts with "." gets another); a message that does not end with a line end (possible
// through IMAP APPEND) gets CRLF before the final ".", two octets more than LIST said.
//
// QUIT in the TRANSACTION state is the UPDATE state: the messages retrieved by RETR and not
// deleted are marked \Seen (as Dovecot does; TOP marks nothing), the messages marked by DELE get
// \Deleted and are expunged, which IMAP sessions of the account see as EXPUNGE or VANISHED. A
// connection that drops, times out or is shut down deletes nothing.
package pop3server
