// Package credentials checks and sets the credentials of accounts for every protocol that logs
// in (IMAP, POP3, submission): the Authenticator, with login throttling, the credential cache
// and the bound on concurrent password hashes, and the functions that set a password or add an
// app password. The mechanisms themselves (argon2id, SASL, SCRAM, SASLprep) are package auth;
// this package gives them the accounts, through the typed Store it is built with.
//
// App passwords (AddAppPassword) are generated passwords an account may have several of, each
// with a name. They are stored in auth.KeyedHash's form under a server secret made once in the
// database (shared by the server and the CLI), plus SCRAM keys. Login finds one by its keyed
// hash (one index lookup), so a login costs the same work whatever the account has: a wrong one
// is exactly one argon2id (of the account's password, or of a dummy hash for an unknown user,
// an unknown domain, a name that is no address or a malformed stored hash) plus one HMAC. App
// passwords stored as argon2id before keyed hashes existed still work: they are tried, one
// argon2id each, only after the keyed lookup and the password failed, and the one that matches
// is rewritten in the keyed form. Until each has been used once, a wrong login on such an
// account costs one argon2id more per legacy app password, which shows in its timing;
// replacing them (posthorn user app-password) ends that.
//
// Verified passwords are remembered in memory for a while ([auth] cache_seconds, default
// DefaultCacheTTL), like Dovecot's auth cache: see credCache. A hit costs two HMACs and the
// account's row, read again to check that the hash that verified the password is still the
// account's; failures are never remembered, and throttling applies first.
//
// At most as many argon2id hashes as the machine has cores (at least two) run at once, each with
// its 64 MiB work area; further logins wait their turn. When hashing has been idle for a moment,
// the memory is given back to the system (debug.FreeOSMemory), so the process shrinks back to
// its resting size after a burst of logins.
//
// SASL (Authenticator.SASL) offers auth's PLAIN, LOGIN and SCRAM-SHA-256 servers. SCRAM keys
// are derived whenever a password or app password is set (AddAccount, SetPassword,
// AddAppPassword), under one salt per account. An account whose password was set before SCRAM
// keys existed (or by a tool that only wrote the hash) has no keys for its password until the
// password is set again: SCRAM then fails exactly like a wrong password (the exchange shows a
// fake salt, as for an unknown user), while PLAIN and LOGIN work.
//
// The web UI logs in through LoginPassword, which takes the account's password only (an app
// password, given to one mail client, must not open the account's settings), and checks its
// second factor through CheckSecondFactor, in the same throttling counts.
//
// Throttling, the same for every mechanism and protocol (IMAP, POP3, submission, the web UI). Two counts
// of failures, each lasting Window from its first failure:
//
//   - per source: an IPv4 address, or an IPv6 /64; every failure from it counts, whatever
//     the account.
//   - per account: failures against the account (or the name, for an unknown user) from
//     sources it does not know. A known source is one the account has logged in from
//     successfully within KnownSourceAge; the store keeps the KnownSourcesKept most recent
//     per account (store.LoginStore, also the account's login history).
//
// An attempt from a known source looks at its source count only; from an unknown source, at
// both. With n failures in the counts it looks at, it waits 2^(n-FreeFailures) × BaseDelay
// first (nothing below FreeFailures), at most MaxDelay; it is refused outright (ErrThrottled)
// when the source has HardLimit failures or, for an unknown source, the account has
// AccountHardLimit. An attempt takes its place in the counts (as a failure) before its password
// is checked, and a success gives it back: so parallel guesses count against each other, and an
// attacker gets HardLimit guesses per source and Window however many connections it opens. A
// success clears nothing else, neither the source's earlier failures (one right password must
// not unlock guessing at other accounts) nor the account's (the owner logging in must not
// restore a stranger's budget). A SCRAM exchange takes its place at its first message and gives
// it back only for a matching proof: an abandoned exchange counts as a failure.
//
// The counts live in the Authenticator's memory, the authority for one node alone on SQLite
// (no write per attempt). Nodes sharing one PostgreSQL keep them in the store instead
// (SetSharedThrottle, store.ThrottleStore): an attempt adds itself to each count in one atomic
// statement and reads the failures before it from the result, so failures reaching different
// nodes count together, and parallel guesses on several nodes still count against each other.
//
// So failures from strangers never throttle the owner's known sources. A stranger guessing from
// one address is refused after HardLimit guesses; the owner at a fresh address meanwhile waits
// up to MaxDelay per attempt, and is refused only once strangers from several sources have
// failed AccountHardLimit times within Window.
package credentials
