// Package queue delivers the outbound queue to the world: the scheduler, routing (MX, null MX,
// MTA-STS, DANE), the SMTP client side, retries, and delivery status notifications.
//
// # Persistence
//
// The queue is the table of store.QueueStore: one row per remote recipient, inserted by
// store.Store.Deliver in the transaction that accepts the message (so the submitter's 250 comes
// after the row is durable), each row holding one reference to the message's blob. A row leaves
// the queue in one small transaction (QueueDone) when the recipient is delivered, bounced or
// deleted by the operator; the blob goes with its last reference. Nothing about an attempt in
// progress is written: after a crash every row is simply due again. So a message is never lost,
// and a recipient gets a duplicate only if the crash falls between the remote server's 250 and
// our record of it. That record is one write: right after the 250 the connection appends the
// delivered row ids to the delivery journal (Scheduler.Journal, a file in the data directory,
// group-committed: one write and one fdatasync for every connection waiting) and goes on. The
// rows' removal from the store follows asynchronously: a marker goroutine commits every id
// waiting in one transaction (group commit) and only then lets the scheduler see those rows
// again (they stay "in flight" until then, so a row is never sent twice by one process); a
// connection keeps at most three transactions waiting for that commit. At start, the rows the
// journal still names are removed before the queue is read, and the journal is emptied; it is
// emptied too whenever every id in it has been removed and it has grown past 64 KiB. The crash
// test in test/ counts the duplicates.
//
// # Scheduling
//
// The scheduler reads due rows (not held, next attempt reached; normal priority before bulk,
// then oldest first) into per-destination lists in memory, at most MaxInMemory at a time. A
// destination is the recipient domain, or the smarthost when one is configured. Each destination
// gets up to MaxPerDestination connections, and all together at most MaxConnections; a quarter of
// those are kept for destinations with normal-priority mail, so bulk mail never fills every
// connection, and within a destination normal mail is always sent first. A connection serves its
// destination until the list is empty: several messages per connection (RSET between them), and
// the recipients of one message at one destination in one transaction (up to MaxRecipients).
// The SMTP client is mox's smtpclient, which uses PIPELINING when the server offers it (MAIL,
// RCPT... and DATA sent together). RatePerDestination spaces transactions to one destination.
//
// The scheduler wakes when the store signals new rows (store.QueueStore.QueueWake), when a
// connection finishes, at the next row's next attempt, and at least every PollInterval. Every
// 250 ms it also counts the due rows (an index-only count): more than it holds in memory means
// another process made rows due (`posthorn queue retry`), and it reads them at once.
//
// # Routing and TLS
//
// MX records are tried in preference order (RFC 5321 §5.1); a domain without MX records is its
// own mail host if it has an address (implicit MX); a domain whose only MX is "." (null MX,
// RFC 7505) accepts no mail, which fails at once with 5.1.10. Each host's addresses are tried in
// turn; a host that does not answer, or answers its greeting with an error, hands over to the next.
//
// TLS: STARTTLS is used whenever the server offers it, without certificate checks
// (opportunistic, RFC 3207; a handshake failure is retried once in plain text), unless a policy
// requires more:
//   - MTA-STS (RFC 8461): the _mta-sts TXT record is looked up for every destination domain; the
//     policy (https://mta-sts.DOMAIN/.well-known/mta-sts.txt) is fetched when the record's id
//     differs from the cached one, and cached in the database (mtasts_policies) for max_age.
//     In mode enforce only the MX hosts the policy names are used, and only over STARTTLS with
//     a certificate valid for the host (PKIX); a failure defers the message.
//   - DANE (RFC 7672): when Secure is set (app sets it when the configured resolver is on
//     loopback, see dns.NewValidating), MX and address lookups go through it and carry the AD
//     bit of the resolver's answers, believed only from a resolver on a loopback address (a
//     validating resolver on the same host, such as unbound), as RFC 6698 §4.1 and RFC 4035
//     §4.9.3 advise: an AD bit that crossed a network could have been forged. As RFC 7672 §2.2
//     says and Postfix does, TLSA (_25._tcp.HOST) is asked only for an MX host whose MX answer
//     and address answers (A and AAAA) were both authenticated; for any other host TLSA is not
//     asked, so an insecure zone or a resolver that mishandles the type (REFUSED, SERVFAIL,
//     silence: dnsmasq, home routers, systemd-resolved, which does not validate by default)
//     cannot delay a message. For a secure host, a failed TLSA lookup defers the message (it
//     may be an attack), and authenticated usable records (DANE-TA, DANE-EE) make STARTTLS with
//     a certificate matching them mandatory. The TLSA base name is the MX host name as the MX
//     record gives it (CNAMEs are not expanded for it, RFC 7672 §2.2.2 allows either).
//     Addresses from Secure are tried IPv4 first, then IPv6.
//   - REQUIRETLS (RFC 8689): a message submitted with it is only sent to a host authenticated
//     by MTA-STS enforce or DANE, over TLS, to a server that offers REQUIRETLS; otherwise it
//     fails with 5.7.30.
//
// A smarthost ([delivery] smarthost) takes every message instead: port 465 speaks implicit TLS,
// any other port STARTTLS; with credentials, TLS is required and verified and AUTH PLAIN is used.
//
// # Failures
//
// A 4xx reply or a network failure defers the recipient: the next attempt is RetryMin doubled
// per attempt, at most RetryMax, each with ±20% jitter so that retries to one destination
// spread out. A 5xx reply, a null MX, or a message still queued after Lifetime (default 5 days)
// fails: the sender gets a delivery status notification (RFC 3464 multipart/report with a
// message/delivery-status part and the original message or its header, RFC 3461 RET), in the
// INBOX of the sender's account when the sender is local, queued to the sender otherwise. After
// DelayNotice (default 4 hours) the sender gets one "delayed" notification. RFC 3461 NOTIFY is
// honoured (NEVER, FAILURE, DELAY), and ENVID and ORCPT are reported. A message from the null
// sender (a notification itself) that fails is logged and dropped, never bounced, so
// notifications cannot loop. The DSN parameters are not passed on to the next hop: posthorn
// acts as the final reporter of failures and delays, and sends no "relayed" or success notices.
//
// # Stuck
//
// Scheduler.Stuck is what GET /readyz asks of the queue: the queue is stuck when a row that is
// not held has been due for StuckAfter or longer (default 15 minutes, at least Timeout plus
// PollInterval) and no attempt of any row finished — delivered, deferred or bounced — in
// that time, Start counting as one; both by the scheduler's clock (Now). A queue that keeps
// failing is not stuck, one that has stopped trying is.
//
// # Campaign rows
//
// A row with a CampaignRecipient (bulk mail, internal/campaign) is scheduled like any other,
// but when Scheduler.Outcomes is set its attempts are reported there instead of to its sender:
// the connection that made the attempt calls the hook with the Outcome (delivered, deferred,
// failed permanently, or expired after Lifetime; the reply code, enhanced status code and
// text, the remote host, the time) for each row, after the delivery journal write for a
// delivery, after the rescheduling for a deferral, and just before the row's removal for a
// failure. No delivery status notification, failure or delay, is sent for such a row: its
// sender is the VERP address bounce+TOKEN@DOMAIN, and the hook is the bounce. The mail log
// still records every attempt. A crash between a failure's hook and the row's removal repeats
// the attempt and the hook; the campaign side takes a repeated outcome as it takes the first.
package queue
