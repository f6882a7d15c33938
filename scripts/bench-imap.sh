#!/usr/bin/env bash
# Compares posthorn's IMAP server with Dovecot's on this machine, on the same large mailbox, with
# one load tool (mailbench imap) and the same command lines for both, and prints a markdown
# table on stdout; the full mailbench reports (p90, max, bytes) follow on stderr.
#
#   scripts/bench-imap.sh            (as root: the reference servers install Debian packages,
#                                     and the Dovecot Maildir must belong to vmail)
#
# Both servers get the same MESSAGES messages (mailbench fill, corpus SEED: text/plain, 2-4 KiB,
# varied subjects and bodies) in the mailbox MAILBOX of user u1@test.example. The default,
# Bench, is a mailbox of its own: other benchmarks deliver into the reference users' INBOXes
# through LMTP, and a message arriving during a run would change the figures. Dovecot is the
# reference instance of ../shared/peers/reference-servers (IMAP on 127.0.0.1:2643, Maildir);
# the mailbox is written directly as Maildir files (mailbench fill --maildir, into
# Maildir/.Bench, Maildir++) and given to vmail; whatever that folder held before is deleted
# (with MAILBOX=INBOX, the whole Maildir of u1). posthorn runs from a fresh temporary data
# directory on loopback ports chosen by the kernel, with plaintext IMAP allowed on loopback, and
# is filled over IMAP with APPEND (each message durable before its OK, as delivery makes it).
#
# Then, for each server:
#   - memory per idle connection: posthorn is restarted (so the fill's garbage is not in its
#     heap) and IDLE connections hold the mailbox selected (mailbench imap --idle): posthorn's
#     resident memory is read from /proc/PID (--pid), Dovecot's is the sum over its "imap"
#     processes, one per session (--pids-of imap); before and after the connections (each
#     SETTLE after the logins), divided by their number. RSS counts a page shared by several
#     processes once in each (Dovecot's libraries, its mmapped index); PSS divides it among
#     them. posthorn's readings are taken just after a garbage collection of its Go runtime
#     (mailbench --metrics on its GET /metrics, which also gives its live heap and stacks):
#     until one runs, its heap holds the garbage of the logins' password hashes, 64 MiB each.
#   - the operations (mailbench imap: connect and LOGIN, SELECT, FETCH 1:* (FLAGS ENVELOPE
#     RFC822.SIZE), FETCH 1:* (FLAGS), FETCH of 100 whole messages, UID SEARCH HEADER Subject, UID SEARCH BODY,
#     STORE +FLAGS/-FLAGS on 1,000 messages): WARMUP untimed rounds (Dovecot builds its index
#     and cache in the first), then ROUNDS timed ones; the table shows the median time. The
#     "found" column gives each server's count (EXISTS, FETCH responses, UIDs), which must be
#     the same.
#
# Environment: OPS (the operations, space-separated; default all of them), MESSAGES (default 100000), SEED (1), MAILBOX (Bench), CONNECTIONS (connections
# running the operations at once, 1), ROUNDS (5), WARMUP (2), IDLE (idle connections, 1000; 0 leaves the memory measurement out),
# SETTLE (10s), REFERENCE_SERVERS, PEERS_DIR (default /tmp/posthorn-peers). Reference servers
# that were already running are left running. On two cores, 100,000 messages take about half
# an hour, most of it filling posthorn and logging in its 1,000 idle connections (argon2id).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE_SERVERS=${REFERENCE_SERVERS:-$ROOT/../shared/peers/reference-servers}
PEERS_DIR=${PEERS_DIR:-/tmp/posthorn-peers}
MESSAGES=${MESSAGES:-100000}
SEED=${SEED:-1}
CONNECTIONS=${CONNECTIONS:-1}
ROUNDS=${ROUNDS:-5}
WARMUP=${WARMUP:-2}
IDLE=${IDLE:-1000}
SETTLE=${SETTLE:-10s}
DOVECOT_ADDR=127.0.0.1:2643
DOVECOT_USER=u1@test.example
DOVECOT_PASSWORD=pass1
MAILBOX=${MAILBOX:-Bench}
MAILDIR=$PEERS_DIR/mail/test.example/u1/Maildir
FOLDER=$MAILDIR/.$MAILBOX # Maildir++
[ "$MAILBOX" = INBOX ] && FOLDER=$MAILDIR
POSTHORN_USER=u1@test.example
POSTHORN_PASSWORD="benchmark password 1"
OPS=${OPS:-"login select fetch-meta fetch-flags fetch-bodies search-header search-body store-add store-remove"}

BENCH=bench-imap
. "$ROOT/scripts/bench-lib.sh"

# start_posthorn: starts posthorn and sets POSTHORN_ADDR (its IMAP listener) and POSTHORN_HTTP.
start_posthorn() {
  serve_posthorn imap http
  POSTHORN_ADDR=$(listener_addr imap)
  POSTHORN_HTTP=$(listener_addr http)
}

# field FILE KEY: the value after KEY in an idle report.
field() { awk -v k="$2" '$1 == k {print $2}' "$WORK/$1.txt"; }

# op FILE OP COLUMN: a column of an operation's line in an imap report (2: p50 ms, 5: count).
op() { awk -v o="$2" -v c="$3" '$1 == o {print $c}' "$WORK/$1.txt"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3g", a / b; else print "-" }'; }

log "building posthorn and mailbench"
(cd "$ROOT" && go build -o "$WORK/posthorn" ./cmd/posthorn && go build -o "$WORK/mailbench" ./cmd/mailbench)

if port_open "$DOVECOT_ADDR"; then
  log "reference servers already running"
else
  log "starting reference servers"
  PEERS_DIR=$PEERS_DIR "$REFERENCE_SERVERS" start >&2
  STARTED_REFERENCE=1
  port_open "$DOVECOT_ADDR" || { log "Dovecot is not listening on $DOVECOT_ADDR"; exit 1; }
fi

log "filling Dovecot: $MESSAGES messages into $FOLDER"
rm -rf "$FOLDER"
mb fill-dovecot fill --count "$MESSAGES" --seed "$SEED" --to "$DOVECOT_USER" --maildir "$FOLDER"
chown -R vmail:vmail "$(dirname "$MAILDIR")"
log "Dovecot: $(cat "$WORK/fill-dovecot.txt")"

log "starting posthorn"
write_config smtp imap http <<CONF
[imap]
allow_plaintext_loopback = true
max_connections = $((IDLE + 4 * CONNECTIONS + 100))
# Every benchmark connection comes from 127.0.0.1.
max_connections_per_address = $((IDLE + 4 * CONNECTIONS + 100))
CONF
P() { "$WORK/posthorn" -c "$WORK/posthorn.toml" "$@"; }
P domain add test.example >/dev/null
echo "$POSTHORN_PASSWORD" | P user add "$POSTHORN_USER" --password-stdin >/dev/null
start_posthorn
log "filling posthorn: $MESSAGES messages over IMAP APPEND on $POSTHORN_ADDR"
mb fill-posthorn fill --count "$MESSAGES" --seed "$SEED" --to "$DOVECOT_USER" --concurrency 16 --mailbox "$MAILBOX" \
  --addr "$POSTHORN_ADDR" --user "$POSTHORN_USER" --password "$POSTHORN_PASSWORD"
log "posthorn: $(cat "$WORK/fill-posthorn.txt")"

log "restarting posthorn before measuring its memory"
stop_posthorn
start_posthorn
P_LOGIN=(--addr "$POSTHORN_ADDR" --user "$POSTHORN_USER" --password "$POSTHORN_PASSWORD" --mailbox "$MAILBOX")
D_LOGIN=(--addr "$DOVECOT_ADDR" --user "$DOVECOT_USER" --password "$DOVECOT_PASSWORD" --mailbox "$MAILBOX")

if [ "$IDLE" -gt 0 ]; then
log "posthorn: $IDLE idle connections"
mb idle-posthorn imap "${P_LOGIN[@]}" --idle "$IDLE" --pid "$POSTHORN_PID" --settle "$SETTLE" \
  --metrics "http://$POSTHORN_HTTP/metrics"
log "Dovecot: $IDLE idle connections"
mb idle-dovecot imap "${D_LOGIN[@]}" --idle "$IDLE" --pids-of imap --settle "$SETTLE"
fi

COMMON=(--connections "$CONNECTIONS" --rounds "$ROUNDS" --warmup "$WARMUP" --ops "$(echo $OPS | tr ' ' ,)")
log "posthorn: operations ($WARMUP warm-up and $ROUNDS timed rounds)"
mb ops-posthorn imap "${P_LOGIN[@]}" "${COMMON[@]}"
log "Dovecot: operations ($WARMUP warm-up and $ROUNDS timed rounds)"
mb ops-dovecot imap "${D_LOGIN[@]}" "${COMMON[@]}"

echo "$MAILBOX of $(op ops-posthorn select 5) messages (posthorn) and $(op ops-dovecot select 5) (Dovecot); $CONNECTIONS connection(s); median of $ROUNDS rounds after $WARMUP warm-up."
echo "Ratio: posthorn ÷ Dovecot (below 1: posthorn is faster or smaller)."
echo
echo "| operation | posthorn | Dovecot | ratio | found (posthorn / Dovecot) |"
echo "|---|---:|---:|---:|---|"
status=0
for o in $OPS; do
  command=$(awk -v o="$o" '$1 == o {sub(/^.*  /, ""); print}' "$WORK/ops-posthorn.txt")
  p=$(op ops-posthorn "$o" 2) d=$(op ops-dovecot "$o" 2)
  pc=$(op ops-posthorn "$o" 5) dc=$(op ops-dovecot "$o" 5)
  found="$pc / $dc"
  if [ "$o" = login ]; then
    found=""
  elif [ "$pc" != "$dc" ]; then
    found="$found (differ)"
    status=1
  fi
  echo "| \`$command\` | $p ms | $d ms | $(ratio "$p" "$d") | $found |"
done
# after FILE KEY: the figure after the arrow of a "KEY before -> after" line of an idle report.
after() { awk -v k="$2" '$1 == k {print $4}' "$WORK/$1.txt"; }

if [ "$IDLE" -gt 0 ]; then
p=$(field idle-posthorn go_live_per_conn_kib) d=$(field idle-dovecot pss_per_connection_kib)
echo "| memory per idle connection ($IDLE connections): posthorn's live heap and stacks after GC, Dovecot's PSS | $p KiB | $d KiB | $(ratio "$p" "$d") | |"
p=$(field idle-posthorn rss_per_connection_kib) d=$(field idle-dovecot rss_per_connection_kib)
echo "| RSS per idle connection, (after - before) / $IDLE | $p KiB | $d KiB | $(ratio "$p" "$d") | |"
p=$(after idle-posthorn rss_mib) d=$(after idle-dovecot rss_mib)
echo "| RSS with $IDLE idle connections: posthorn's process, Dovecot's imap processes (PSS) | $p MiB | $d MiB ($(after idle-dovecot pss_mib)) | $(ratio "$p" "$d") | |"
p=$(field idle-posthorn open_seconds) d=$(field idle-dovecot open_seconds)
echo "| time to log in $IDLE connections, SELECT, IDLE | $p s | $d s | $(ratio "$p" "$d") | |"
fi
echo
echo "Fill: posthorn $(sed 's/^filled //' "$WORK/fill-posthorn.txt"), over IMAP APPEND; Dovecot $(sed 's/^filled //' "$WORK/fill-dovecot.txt"), Maildir files written directly."
[ "$IDLE" -gt 0 ] && echo "posthorn's RSS: $(field idle-posthorn rss_mib) -> $(after idle-posthorn rss_mib) MiB around the idle connections, both read after a GC; its live heap and stacks: $(field idle-posthorn go_live_mib) -> $(after idle-posthorn go_live_mib) MiB. The rest of its RSS is heap the Go runtime keeps after the password hashes of the logins (argon2id, 64 MiB each), which swamps the RSS difference."
for f in fill-dovecot fill-posthorn idle-posthorn idle-dovecot ops-posthorn ops-dovecot; do
  [ -f "$WORK/$f.txt" ] || continue
  log "mailbench report $f:"
  sed 's/^/  /' "$WORK/$f.txt" >&2
done
exit $status
