#!/usr/bin/env bash
# Compares posthorn's inbound SMTP rate with Postfix's on this machine, with one load tool
# (mailbench) and the same command line for both, and prints a markdown table.
#
#   scripts/bench-ingest.sh            (as root: the reference servers install Debian packages)
#
# posthorn runs from a fresh temporary data directory on loopback ports chosen by the kernel,
# with domain test.example and accounts u1..u9@test.example. Postfix is the reference instance of
# ../shared/peers/reference-servers on 127.0.0.1:2625, which accepts mail for the same addresses
# into its fsync'd queue and then delivers it through Dovecot LMTP. Both acknowledge a message
# only once it is on disk; Postfix's figure is its acceptance rate (the queue), posthorn's is
# delivery into the mailbox. After each Postfix run the script waits until Postfix's queue is
# empty, so its background deliveries do not slow the next measurement.
#
# Each measurement runs REPEAT times, alternating posthorn and Postfix, and the table shows each
# server's best run: on a shared machine a slow run says more about the neighbours than the server.
#
# Environment: SIZES (bytes, default "4096 102400"), CONCURRENCY (default "1 20 100"),
# SECONDS_PER_RUN (target length of each run at Postfix's speed, default 5), REPEAT (runs per
# measurement, default 2), REFERENCE_SERVERS (path of the reference-servers script), PEERS_DIR
# (its data directory, default /tmp/posthorn-peers). Reference servers that were already running
# are left running.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
REFERENCE_SERVERS=${REFERENCE_SERVERS:-$ROOT/../shared/peers/reference-servers}
PEERS_DIR=${PEERS_DIR:-/tmp/posthorn-peers}
SIZES=${SIZES:-"4096 102400"}
CONCURRENCY=${CONCURRENCY:-"1 20 100"}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
REPEAT=${REPEAT:-2}
POSTFIX_ADDR=127.0.0.1:2625
FROM=bench@sender.example
TO=u1@test.example,u2@test.example,u3@test.example,u4@test.example,u5@test.example,u6@test.example,u7@test.example,u8@test.example,u9@test.example

BENCH=bench-ingest
. "$ROOT/scripts/bench-lib.sh"

# count SIZE CONC: messages for about SECONDS_PER_RUN seconds at the rate Postfix reaches on a
# two-core machine (about 250 msg/s alone, 500 msg/s with 20 connections or more).
count() {
  local rate=500
  [ "$2" -eq 1 ] && rate=250
  [ "$1" -gt 65536 ] && rate=$((rate * 2 / 3))
  echo $((rate * SECONDS_PER_RUN))
}

# bench ADDR SIZE CONC COUNT: one mailbench run; prints "msgs/s p50_ms", or "failed -".
bench() {
  local out="$WORK/mailbench-$1-$2-$3.txt"
  if ! "$WORK/mailbench" smtp --addr "$1" --from "$FROM" --to "$TO" \
    --size "$2" --concurrency "$3" --count "$4" >"$out" 2>&1; then
    log "mailbench against $1 failed:"
    sed 's/^/  /' "$out" >&2
    echo "failed -"
    return
  fi
  awk '/^messages\/s/ {rate=$2} /^latency p50/ {p50=$3} END {print rate, p50}' "$out"
}

# better NEW OLD: whether the rate NEW beats OLD ("failed" beats nothing).
better() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "failed" && (b == "failed" || a + 0 > b + 0)) }'; }

# drain_postfix: waits (up to two minutes) until Postfix has handed every queued message to LMTP.
drain_postfix() {
  local spool=$PEERS_DIR/spool
  for _ in $(seq 600); do
    if [ -z "$(find "$spool/incoming" "$spool/active" "$spool/maildrop" -type f -print -quit 2>/dev/null)" ]; then
      return
    fi
    sleep 0.2
  done
  log "warning: Postfix's queue did not drain within two minutes"
}

log "building posthorn and mailbench"
(cd "$ROOT" && go build -o "$WORK/posthorn" ./cmd/posthorn && go build -o "$WORK/mailbench" ./cmd/mailbench)

if port_open "$POSTFIX_ADDR"; then
  log "reference servers already running"
else
  log "starting reference servers"
  PEERS_DIR=$PEERS_DIR "$REFERENCE_SERVERS" start >&2
  STARTED_REFERENCE=1
  port_open "$POSTFIX_ADDR" || { log "Postfix is not listening on $POSTFIX_ADDR"; exit 1; }
fi

log "starting posthorn"
write_config smtp http <<CONF
[smtp]
# Every benchmark connection comes from 127.0.0.1.
max_connections_per_address = 1000
[log]
level = "info"
mail_log = "mail.log"
CONF
P() { "$WORK/posthorn" -c "$WORK/posthorn.toml" "$@"; }
P domain add test.example >/dev/null
for i in 1 2 3 4 5 6 7 8 9; do
  echo "benchmark password $i" | P user add "u$i@test.example" --password-stdin >/dev/null
done
# Started directly, not through P: $! must be posthorn itself, for the cleanup to stop it.
serve_posthorn smtp
POSTHORN_ADDR=$(listener_addr smtp)
log "posthorn on $POSTHORN_ADDR, Postfix on $POSTFIX_ADDR"

log "warming up"
bench "$POSTHORN_ADDR" 4096 20 200 >/dev/null
bench "$POSTFIX_ADDR" 4096 20 200 >/dev/null
drain_postfix

echo "| size | concurrency | posthorn msg/s | Postfix msg/s | ratio | posthorn p50 ms | Postfix p50 ms |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
status=0
for size in $SIZES; do
  for conc in $CONCURRENCY; do
    n=$(count "$size" "$conc")
    p_rate=failed p_p50=- f_rate=failed f_p50=-
    for round in $(seq "$REPEAT"); do
      log "size $size, concurrency $conc, $n messages, round $round: posthorn"
      read -r rate p50 < <(bench "$POSTHORN_ADDR" "$size" "$conc" "$n")
      if better "$rate" "$p_rate"; then p_rate=$rate p_p50=$p50; fi
      log "size $size, concurrency $conc, $n messages, round $round: Postfix"
      read -r rate p50 < <(bench "$POSTFIX_ADDR" "$size" "$conc" "$n")
      if better "$rate" "$f_rate"; then f_rate=$rate f_p50=$p50; fi
      drain_postfix
    done
    ratio=$(awk -v a="$p_rate" -v b="$f_rate" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
    [ "$ratio" = "-" ] && status=1
    label=$((size / 1024))KiB
    echo "| $label | $conc | $p_rate | $f_rate | $ratio | $p_p50 | $f_p50 |"
  done
done
exit $status
