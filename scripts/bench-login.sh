#!/usr/bin/env bash
# Compares repeated logins on posthorn and Dovecot in one run, and shows posthorn's resident
# memory around a burst of logins. Prints a markdown table on stdout, details on stderr.
#
#   REFERENCE_SERVERS=../shared/peers/reference-servers scripts/bench-login.sh
#
# Logins: mailbench login connects, logs in (IMAP LOGIN, POP3 USER/PASS) and logs out COUNT
# times one after the other, against posthorn and against the reference Dovecot (IMAP
# 127.0.0.1:2643, POP3 127.0.0.1:2610, u1@test.example / pass1; posthorn's u1 has a longer
# password), taking turns ROUNDS times, and
# the table gives the median of all. posthorn runs from a fresh temporary data directory with
# plaintext logins allowed on loopback and the default credential cache ([auth] cache_seconds).
#
# Memory: posthorn is started again with the cache off ([auth] cache_seconds = 0), so that every
# login pays argon2id (64 MiB each), and BURST IMAP logins are made by PARALLEL clients at once.
# Its RSS (/proc/PID/status VmRSS) is read before, every 0.2 s during the burst (the peak is
# shown), and AFTER seconds after it ended.
#
# Environment: COUNT (100), ROUNDS (3), BURST (600), PARALLEL (30), AFTER ("2 5 10"),
# REFERENCE_SERVERS, PEERS_DIR (default /tmp/posthorn-peers).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE_SERVERS=${REFERENCE_SERVERS:-$ROOT/../shared/peers/reference-servers}
PEERS_DIR=${PEERS_DIR:-/tmp/posthorn-peers}
COUNT=${COUNT:-100}
ROUNDS=${ROUNDS:-3}
BURST=${BURST:-600}
PARALLEL=${PARALLEL:-30}
AFTER=${AFTER:-2 5 10}
DOVECOT_IMAP=127.0.0.1:2643
DOVECOT_POP3=127.0.0.1:2610
USER_NAME=u1@test.example
DOVECOT_PASSWORD=pass1
POSTHORN_PASSWORD="benchmark password 1" # posthorn refuses passwords under 8 characters

BENCH=bench-login
. "$ROOT/scripts/bench-lib.sh"

# start_posthorn CACHE_SECONDS: starts posthorn and sets POSTHORN_PID, P_IMAP and P_POP3.
start_posthorn() {
  write_config smtp imap pop3 http <<CONF
[auth]
cache_seconds = $1
CONF
  serve_posthorn imap pop3
  P_IMAP=$(listener_addr imap)
  P_POP3=$(listener_addr pop3)
}

rss_mib() { awk '/^VmRSS:/ {printf "%.1f", $2 / 1024}' "/proc/$POSTHORN_PID/status"; }

# login PROTO ADDR PASSWORD: COUNT logins; prints their latencies' median in ms, keeps the line.
login() {
  "$WORK/mailbench" login --proto "$1" --addr "$2" --user "$USER_NAME" --password "$3" --count "$COUNT" \
    | tee -a "$WORK/login-$1-$2.txt" | awk '{print $3}'
}

median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

log "building posthorn and mailbench"
(cd "$ROOT" && go build -o "$WORK/posthorn" ./cmd/posthorn && go build -o "$WORK/mailbench" ./cmd/mailbench)

if port_open "$DOVECOT_IMAP"; then
  log "reference servers already running"
else
  log "starting reference servers"
  PEERS_DIR=$PEERS_DIR "$REFERENCE_SERVERS" start >&2
  STARTED_REFERENCE=1
fi

start_posthorn 300
P() { "$WORK/posthorn" -c "$WORK/posthorn.toml" "$@"; }
P domain add test.example >/dev/null
echo "$POSTHORN_PASSWORD" | P user add "$USER_NAME" --password-stdin >/dev/null

declare -A runs
for r in $(seq "$ROUNDS"); do
  log "round $r of $ROUNDS: $COUNT logins each"
  runs[pi]+="$(login imap "$P_IMAP" "$POSTHORN_PASSWORD") " runs[di]+="$(login imap "$DOVECOT_IMAP" "$DOVECOT_PASSWORD") "
  runs[pp]+="$(login pop3 "$P_POP3" "$POSTHORN_PASSWORD") " runs[dp]+="$(login pop3 "$DOVECOT_POP3" "$DOVECOT_PASSWORD") "
done
med() { echo "${runs[$1]}" | tr ' ' '\n' | grep . | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3g", a / b }'; }
stop_posthorn

echo "connect + login + logout, $COUNT times in a row, $ROUNDS rounds taking turns; median of each round's median (ms)."
echo
echo "| protocol | posthorn | Dovecot | ratio |"
echo "|---|---:|---:|---:|"
pi=$(med pi) di=$(med di) pp=$(med pp) dp=$(med dp)
echo "| IMAP LOGIN | $pi ms | $di ms | $(ratio "$pi" "$di") |"
echo "| POP3 USER/PASS | $pp ms | $dp ms | $(ratio "$pp" "$dp") |"

log "memory: $BURST IMAP logins from $PARALLEL clients, cache off"
start_posthorn 0
sleep 2
before=$(rss_mib)
per=$(( (BURST + PARALLEL - 1) / PARALLEL ))
peak=$before
seq "$PARALLEL" | xargs -P "$PARALLEL" -I{} "$WORK/mailbench" login --proto imap --addr "$P_IMAP" \
  --user "$USER_NAME" --password "$POSTHORN_PASSWORD" --count "$per" >"$WORK/burst.txt" 2>&1 &
burst=$!
while kill -0 "$burst" 2>/dev/null; do
  now=$(rss_mib)
  peak=$(awk -v a="$peak" -v b="$now" 'BEGIN { print (b > a) ? b : a }')
  sleep 0.2
done
wait "$burst" || { log "burst failed:"; cat "$WORK/burst.txt" >&2; exit 1; }
ended=$(date +%s.%N)
echo
echo "posthorn RSS around $((per * PARALLEL)) IMAP logins from $PARALLEL clients at once (cache off): before $before MiB, peak $peak MiB"
for s in $AFTER; do
  while [ "$(awk -v e="$ended" -v n="$(date +%s.%N)" -v s="$s" 'BEGIN { print (n - e < s) }')" = 1 ]; do sleep 0.05; done
  echo "  ${s} s after the burst: $(rss_mib) MiB"
done
log "mailbench reports:"
cat "$WORK"/login-*.txt "$WORK/burst.txt" | sed 's/^/  /' >&2
