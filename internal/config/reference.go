package config

// Reference is the documented configuration: every key with its unit and default. It is valid
// TOML that loads to Default(); `posthorn config reference` prints it.
const Reference = `# posthorn configuration reference. Every key is optional; the value shown is the default.
# Relative paths are relative to the directory of this file. Unknown keys are errors.

# Fully qualified host name: SMTP greeting, Received headers, self-signed certificate.
hostname = "localhost"

# Directory for the database (posthorn.db), message bodies (blobs/) and generated keys.
data_dir = "./posthorn-data"

[server]
# Account to run as, when started as root: after binding the listeners (ports below 1024 need
# root) and reading the certificate files, the server gives data_dir (mode 0750) to this user
# and switches to it and its group for good. A user name or a numeric uid. "" keeps the user the
# server was started as; as root that is refused when a listener is on a non-loopback address
# (set user = "root" to keep root deliberately) and warned about otherwise. Under systemd with
# User= and AmbientCapabilities=CAP_NET_BIND_SERVICE (docs/posthorn.service) leave it "".
user = ""
# Group to run as, a name or a numeric gid; "" = the primary group of user.
group = ""

[listen]
# One "host:port" per listener; "" disables it. ":25" listens on every address.
smtp = "127.0.0.1:2525"    # inbound MX (production: ":25")
submission = "127.0.0.1:2587"  # mail submission, STARTTLS + AUTH (production: ":587")
submissions = "127.0.0.1:2465" # mail submission, implicit TLS + AUTH (production: ":465")
imap = "127.0.0.1:2143"    # IMAP with STARTTLS (production: ":143")
imaps = "127.0.0.1:2993"   # IMAP with implicit TLS (production: ":993")
pop3 = "127.0.0.1:2110"    # POP3 with STLS (production: ":110")
pop3s = "127.0.0.1:2995"   # POP3 with implicit TLS (production: ":995")
http = "127.0.0.1:8080"    # admin, JSON API, GET /metrics, GET /healthz (see [http])
# The same routes as http (web UI, JSON API, MTA-STS policy, autoconfig, autodiscover, metrics,
# health) over TLS with the certificate of [tls], HTTP/2 by ALPN, and Strict-Transport-Security
# (max-age one year) on every response; "" = off. Production: ":443", where senders fetch
# MTA-STS policies and where ACME answers its tls-alpn-01 challenges.
https = ""

[tls]
# Certificate chain and private key, PEM. Set both or neither; missing files are start-up errors.
cert_file = ""
key_file = ""
# Contact e-mail for ACME (Let's Encrypt); when set, certificates for hostname and the mta-sts.,
# autoconfig. and autodiscover. names of every local domain come from ACME: the tls-alpn-01
# challenge is answered by listen.https (on port 443), the http-01 one by listen.http (on port 80).
acme_email = ""
# With none of these set, a self-signed certificate for hostname is generated once in data_dir.

[dns]
# "host:port" of the recursive resolver; "" uses the system resolver (/etc/resolv.conf).
resolver = ""

[smtp]
# Largest accepted message, in MiB; larger ones get 552 5.3.4.
max_message_size_mib = 50
# Most recipients per message; more get 452 4.5.3.
max_recipients = 100
# Most simultaneous SMTP connections; more get 421 4.7.0.
max_connections = 1000
# Most simultaneous connections from one client address (an IPv4 address, an IPv6 /64), on the
# MX and on submission each; more get 421 4.7.0. Large senders open a few connections per
# address, and 50 is also Postfix's smtpd_client_connection_count_limit.
max_connections_per_address = 50
# Time allowed for each command line, in seconds, counted from when the server waits for it, not
# renewed by each byte: a client trickling a line is closed as a silent one (RFC 5321 §4.5.3.2).
timeout_seconds = 300

[imap]
# Let LOGIN and AUTHENTICATE PLAIN work without TLS on connections from 127.0.0.1 or ::1 (a
# trial server, local tools); from any other address they need TLS.
allow_plaintext_loopback = true
# Most simultaneous IMAP connections (imap and imaps together); more get "* BYE" at once.
max_connections = 1000
# Most simultaneous IMAP connections from one client address (an IPv4 address, an IPv6 /64);
# more get "* BYE [UNAVAILABLE]" at once. A mail client opens about five per account
# (Thunderbird's cached connections plus IDLE), and a household behind one NAT address has a few
# devices with a few accounts each: 50 leaves it room, and one host needs 20 addresses to fill
# max_connections.
max_connections_per_address = 50
# Time a connection has from its start to log in, in seconds; every command before the login
# (NOOP included) must be complete by then. RFC 9051 §5.4's 30 minutes apply after the login.
login_timeout_seconds = 60
# The largest message APPEND accepts is smtp.max_message_size_mib (IMAP APPENDLIMIT).

[pop3]
# Let USER/PASS and AUTH PLAIN work without TLS on connections from 127.0.0.1 or ::1 (a trial
# server, local tools); from any other address they need TLS (STLS, or the pop3s listener).
allow_plaintext_loopback = true
# Most simultaneous POP3 connections (pop3 and pop3s together); more get "-ERR" at once.
max_connections = 1000
# Most simultaneous POP3 connections from one client address (an IPv4 address, an IPv6 /64);
# more get "-ERR [IN-USE]" at once.
max_connections_per_address = 50
# Time a connection has from its start to log in, in seconds; after it, 10 minutes per command
# (RFC 1939 §3).
login_timeout_seconds = 60

[submission]
# Let AUTH work without TLS on connections from 127.0.0.1 or ::1 (a trial server, local tools);
# from any other address AUTH is neither advertised nor accepted before STARTTLS (530 5.7.0).
allow_plaintext_loopback = true
# Time a connection has from its start to authenticate, in seconds; NOOPs do not extend it.
# Connection limits are smtp.max_connections and smtp.max_connections_per_address.
login_timeout_seconds = 60

[http]
# Most simultaneous HTTP connections, and from one client address (an IPv4 address, an IPv6
# /64), on each of listen.http and listen.https; more get 503 at once (https: closed before TLS).
max_connections = 200
max_connections_per_address = 20
# Time to read a whole request, to write a response, and for a keep-alive connection to wait
# for its next request, in seconds.
read_timeout_seconds = 30
write_timeout_seconds = 60
idle_timeout_seconds = 60
# GET /metrics is served only to clients in these networks (CIDR), or to any client that sends
# "Authorization: Bearer <metrics_token>" when metrics_token is set; others get 403.
metrics_networks = ["127.0.0.0/8", "::1/128"]
metrics_token = ""
# The web UI: /login, self-service under /account/, /admin/ for accounts with the admin flag
# (posthorn user admin ADDRESS on). Its cookies are Secure: from another machine, serve it
# over https (listen.https, or a TLS-terminating proxy in front of listen.http).
ui = true

[auth]
# Seconds a verified password is remembered in memory (a keyed hash of user and password, never
# the password), so that a client reconnecting does not pay argon2id again; 0 = no cache.
# Changing the password or an app password, or removing the account (posthorn user ...), ends
# it at once; failed logins are never remembered, and throttling applies first.
cache_seconds = 300

[log]
# Minimum level of the server log: "debug", "info", "warn" or "error".
level = "info"
# "text" (key=value) or "json", written to standard error.
format = "text"
# File for the mail log (one line per received or rejected message, fixed keys); "" = server log.
mail_log = ""

[limits]
# Storage quota of an account, in MiB, unless set for it with "posthorn user quota ADDRESS MIB";
# 0 = no quota. Over quota, SMTP answers 452 4.2.2 (at RCPT when the account is full, after DATA
# when the message would not fit) and IMAP APPEND and COPY answer NO [OVERQUOTA] (RFC 9208).
default_quota_mib = 0
# Recipients an account may send to through submission per hour and per day (24 hours), unless
# set for it with "posthorn user send-limit ADDRESS PER_HOUR PER_DAY"; 0 = no limit. A message to
# ten recipients counts ten. Past a limit, RCPT TO gets 451 4.7.1.
send_per_hour = 1000
send_per_day = 5000

[delivery]
# TCP port of the recipients' MX hosts (tests point it at a loopback server).
port = 25
# "host:port" of a relay that takes every outbound message instead of the recipients' MX hosts,
# for hosts whose port 25 is blocked; port 465 speaks implicit TLS, any other STARTTLS.
smarthost = ""
# AUTH PLAIN credentials for the smarthost; with them, the smarthost must offer TLS with a
# certificate valid for its name.
username = ""
password = ""
# How long a message is retried before it bounces to its sender, in hours (5 days).
lifetime_hours = 120
# After how long the sender gets one "delayed" notice, in hours.
delay_notice_hours = 4
# First retry interval, in seconds; it doubles per failed attempt, with ±20% jitter, up to
# retry_max_seconds.
retry_min_seconds = 300
retry_max_seconds = 14400
# Most outbound connections at once, and to one destination domain. A quarter of max_connections
# is kept for person-to-person mail, so bulk mail never holds every connection.
max_connections = 100
max_connections_per_domain = 10
# Most messages per second to one destination domain; 0 = no limit.
rate_per_domain = 0
# Longest wait between full reads of the queue, in seconds (rows that "posthorn queue retry"
# makes due are noticed within a quarter of a second anyway).
poll_seconds = 30

[filter]
# The inbound filter of the MX: every check runs at the first SMTP stage that can decide, and a
# finding's name goes to the mail log (reasons=) and the metrics. Submission is never filtered.
enabled = true
# Client networks (CIDR) that rate limits, DNSBL lookups and greylisting leave alone (your own
# servers); body checks apply to every client.
exempt_networks = ["127.0.0.0/8", "::1/128"]
# SPF and iprev at MAIL FROM, DKIM, ARC and DMARC at the end of data; Authentication-Results is
# prepended to every stored message, and received ones that claim hostname are removed.
authentication = true
# A DMARC failure under p=reject: "reject" (550 5.7.1) or "junk" (deliver to Junk). p=quarantine
# always delivers to Junk.
dmarc_reject = "reject"
# Domains whose ARC seals may override a DMARC failure: mailing lists and forwarders you trust.
trusted_arc_sealers = []
# DNS block list zones (RFC 5782) the client's address is looked up in at EHLO; a listed client
# gets 554 5.7.1. Example: ["zen.spamhaus.org"].
dnsbl = []
# Connections per minute from one address and from one /24 (IPv4) or /64 (IPv6) network; more
# get 421 4.7.0. 0 = no limit.
connections_per_minute = 60
connections_per_minute_network = 300
# Recipients per minute from one address and from one network; more get 451 4.7.1. 0 = no limit.
recipients_per_minute = 600
recipients_per_minute_network = 3000

[filter.clamd]
# clamd's socket, "unix:/run/clamav/clamd.ctl" or "host:port"; "" = no virus scanning. A virus
# gets 554 5.7.1; its name goes to the mail log, never to the sender.
address = ""
# Longest scan of one message, in seconds.
timeout_seconds = 30
# Largest message sent to clamd, in MiB; larger ones are delivered unscanned (reason
# virus-scan-skipped). Keep it at most clamd's StreamMaxLength (25M in Debian's clamd.conf).
max_scan_mib = 25
# When clamd is down or too slow: "tempfail" (451 4.7.1, the sender retries later) or "accept"
# (deliver with the header X-Posthorn-Virus-Scan: unavailable).
fail = "tempfail"
# Which messages are sent to clamd: "attachments", those with a part that can carry malware (a
# part that is not text, a text part named as a file, or uuencoded, yEnc or BinHex text), whole;
# or "all", text-only messages too, for signature databases that match text (phishing and spam
# signatures such as Sanesecurity's). Malware needs a file to run: text-only mail, most mail,
# skips the scan.
scan = "attachments"

[filter.attachments]
# Refuse executables, scripts (by content type, extension and first bytes, also inside zip
# archives) and macro-enabled Office documents with 554 5.7.1.
enabled = true
# More file name extensions to refuse, lower case without the dot, e.g. ["iso", "img"].
blocked_extensions = []

[filter.greylist]
# Answer the first message of a new (client /24 or /64, sender, recipient) triplet with
# 451 4.7.1; the retry after delay_seconds passes. State is kept in the database.
enabled = false
delay_seconds = 300
# How long a triplet is remembered after its last message, in days.
expiry_days = 35

[filter.spam]
# The built-in spam classifier: a Bayes model (global and per account) plus signals, summed
# into one score per recipient account. Per-account allow and block lists decide alone
# ("posthorn spam allow|block add ACCOUNT ADDRESS-OR-@DOMAIN").
enabled = true
# Score from which a message goes to the account's Junk mailbox. Bayes gives -12 (sure ham) to
# +12 (sure spam); other signals a few points each ("posthorn spam explain FILE" shows them).
junk_threshold = 5.0
# Score from which a message is refused with 554 5.7.1 (when every recipient's score reaches
# it); 0 = never refuse, Junk only.
reject_threshold = 0.0
# DNS block list zones of client addresses (RFC 5782) whose listing adds 3 points, rather than
# refusing as filter.dnsbl does. Example: ["zen.spamhaus.org"].
dnsbl = []
# URI block list zones whose listing of a domain linked from the body adds 3 points. Example:
# ["multi.surbl.org"].
uribl = []
# Seconds between two rounds of learning from users' moves into and out of Junk (any IMAP client).
train_interval_seconds = 30

[campaign]
# Bulk mail: lists, subscribers and campaigns ("posthorn list|subscriber|campaign ..."), sent
# through the outbound queue at bulk priority.
# The https base of every link a campaign message carries (tracking, view in browser,
# unsubscribe, preferences, confirmation), served by the http listener or a proxy in front of
# it, e.g. "https://news.example.org"; "" = campaigns with such links cannot start.
public_url = ""
# Where ARF feedback reports (RFC 5965) arrive, on a local domain: each is matched to its
# campaign and recipient, and an abuse report suppresses the address. "" = none.
abuse_address = ""
# How much of a client's IP address tracking and consent records keep: "none", "truncated"
# (IPv4 /24, IPv6 /48) or "full".
track_ip = "truncated"
# More networks (CIDR) of mail privacy proxies, on top of the built-in ones: their image fetches
# count as machine opens, kept apart from people's.
proxy_networks = []
# More user-agent substrings of privacy proxies (opens) and of link scanners (clicks).
proxy_agents = []
scanner_agents = []
# A click this soon after delivery, in seconds, is a link scanner's.
scanner_window_seconds = 10
# The public subscription form: requests per hour from one client address (IPv4, IPv6 /64), and
# confirmation mails per day to one address (while one is pending, a new request sends none).
form_per_ip_per_hour = 10
form_per_address_per_day = 3
# How long a double opt-in confirmation link stays valid, in hours.
confirm_hours = 72
# Receivers of campaign events, one [[campaign.webhooks]] table each:
#   url    = "https://hooks.example.org/posthorn"   the http(s) URL events are POSTed to, once each
#   secret = "..."                                  the key of the HMAC-SHA256 signature
#   events = ["bounce", "complaint"]                open, click, unsubscribe, complaint, bounce,
#                                                   delivered, deferred; [] = every kind
# Batches of JSON events, signed in X-Posthorn-Signature, retried with backoff until a 2xx;
# README says how a receiver checks the signature.
webhooks = []

[mta_sts]
# The MTA-STS policy (RFC 8461) the http listener serves for every local domain at
# https://mta-sts.DOMAIN/.well-known/mta-sts.txt, naming hostname as the MX host; "posthorn
# domain dns" prints its id, which changes whenever the policy does.
# What senders do when they cannot reach the MX host over verified TLS: "enforce" (do not
# deliver), "testing" (deliver, and report by TLS-RPT) or "none" (the policy is withdrawn).
mode = "enforce"
# How long senders keep the policy, in seconds (at most 31557600).
max_age_seconds = 604800

[retention]
# How long mail and records are kept; a daily job (and "posthorn retention run [--dry-run]")
# removes what is older, and reports it in the metrics (posthorn_retention_removed_total) and
# the audit log. Periods are in days; 0 keeps forever. A message's age is its internal date.
# Accounts under legal hold ("posthorn user hold ADDRESS on") keep everything: mail, login
# history, and the mail log events that name them.
# Messages of the mailboxes with the special use \Junk, \Trash, \Sent and \Archive; 0 = no rule
# of their own (all_days applies). Example: junk_days = 30, trash_days = 60.
junk_days = 0
trash_days = 0
sent_days = 0
archive_days = 0
# Messages of every mailbox, INBOX and folders included, that has no rule of its own.
all_days = 0
# Rules of one domain's accounts, each a table whose keys (junk_days, trash_days, sent_days,
# archive_days, all_days) win over the ones above; a key left out follows them:
#   [retention.domains."example.org"]
#   junk_days = 10
domains = {}
# The stored mail log (the message trace's events).
mail_log_days = 0
# Campaign tracking events: opens and clicks, with their user agents and client addresses.
tracking_days = 0
# Login history: the sources accounts logged in from (posthorn treats a source unseen for
# longer as new) and the web UI's recent logins.
login_history_days = 0
# When the job runs, "HH:MM" in UTC, once a day.
run_at = "04:00"

[backup]
# Scheduled backups, made while the server runs as "posthorn backup create" makes them, each
# verified after it is written. Directory for the archives, named
# posthorn-TIME-full.tar.zst and posthorn-TIME-incr-BASETIME.tar.zst (UTC); "" = none. Put it on
# another disk than data_dir, and copy it off the machine.
directory = ""
# "HH:MM": daily at that time, in the server's time zone; or an interval such as "6h" (at least
# "1m"). With no archive in the directory yet, the first runs at start; a run missed while the
# server was down runs at the next start; a failed run is tried again an hour later (or after
# the interval, when that is shorter).
schedule = "03:00"
# A full archive when the newest full one is this many calendar days old or more (so weekly);
# the runs between make incremental ones, each holding the database and only the bodies that
# are new since the archive before it. 1 = every archive full. "posthorn restore" of an
# incremental finds the archives of its chain in the same directory.
full_every_days = 7
# Retention, after each run: keep the newest archive of each of the last keep_daily days that
# have one, the newest full archive of each of the last keep_weekly weeks that have one, and
# every archive a kept incremental relies on; remove the other scheduled archives.
keep_daily = 7
keep_weekly = 4
`
