#!/usr/bin/env bash
# Measures inbound SMTP intake side by side on this machine, with one load tool (mailbench) and
# the same message and command line for every server, and prints markdown tables:
#
#   posthorn, filter off       [filter] enabled = false
#   posthorn, default checks   SPF, iprev, DKIM, DMARC, spam classifier, attachment policy;
#                              clamd off
#   posthorn, checks + clamd   the same, with Debian's clamd scanning every message with an
#                              attachment (filter.clamd.scan's default)
#   Postfix                    smtpd accepting into its fsync'd queue
#   Dovecot LMTP               storing into Maildir (mail_fsync=optimized)
#
#   scripts/bench-ingest.sh            (as root: the reference servers install Debian packages)
#
# The message is what an inbound filter has work on: a newsletter from news@remote.example with
# a text part and a PDF attachment, signed with RSA and Ed25519 DKIM keys (mailbench sample).
# The checks resolve its names from a zone served on loopback by mailbench dns (SPF and DMARC
# of remote.example, the DKIM keys, PTR and A of mail.remote.example for 127.0.0.1), set as
# posthorn's [dns] resolver, so every lookup is a real DNS exchange and passes.
#
# posthorn runs from fresh temporary data directories on loopback ports chosen by the kernel,
# with domain test.example and accounts u1..u9@test.example, one instance per configuration
# at a time. Postfix and Dovecot are the reference instances of
# ../shared/peers/reference-servers: Postfix on 127.0.0.1:2625 accepts mail for the same
# addresses into its queue and delivers it through Dovecot LMTP on 127.0.0.1:2624. Every server
# acknowledges a message only once it is on disk; Postfix's figure is its acceptance rate,
# posthorn's and Dovecot's are messages stored in the mailbox. After each Postfix run the
# script waits until Postfix's queue is empty, so its background deliveries do not slow the
# next measurement.
#
# Each measurement runs REPEAT times, the configurations taking turns within each round, and
# the table shows each one's median: on a shared machine a round says as much about the
# neighbours as about the server. The load average is printed with each round. With strace
# installed, a last pass counts posthorn's sync system calls (fsync, fdatasync, syncfs) while
# SYNC_COUNT messages arrive, per configuration and size.
#
# Environment: SIZES (bytes, default "4096 102400"), CONCURRENCY (default 20), SECONDS_PER_RUN
# (target length of each run at Postfix's speed, default 5), REPEAT (runs per measurement,
# default 3), SYNC_COUNT (messages of the strace pass, default 500; 0 leaves it out),
# REFERENCE_SERVERS (path of the reference-servers script), PEERS_DIR (its data directory,
# default /tmp/posthorn-peers), CLAMD (clamd binary, default /usr/sbin/clamd), CLAMAV_DB (its
# signature directory, default the shared test material's). Reference servers that were
# already running are left running.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# SHARED: the shared material beside the repository (../shared), or beside a directory above it
# (a worktree's), as internal/testutil.SharedTestdata finds it.
SHARED=$ROOT/../shared
for d in "$ROOT/.." "$ROOT/../.." "$ROOT/../../.."; do
  if [ -d "$d/shared/peers" ]; then SHARED=$(cd "$d/shared" && pwd) && break; fi
done
REFERENCE_SERVERS=${REFERENCE_SERVERS:-$SHARED/peers/reference-servers}
PEERS_DIR=${PEERS_DIR:-/tmp/posthorn-peers}
SIZES=${SIZES:-"4096 102400"}
CONCURRENCY=${CONCURRENCY:-20}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
REPEAT=${REPEAT:-3}
SYNC_COUNT=${SYNC_COUNT:-500}
CLAMD=${CLAMD:-/usr/sbin/clamd}
CLAMAV_DB=${CLAMAV_DB:-$SHARED/testdata/clamav/db}
POSTFIX_ADDR=127.0.0.1:2625
LMTP_ADDR=127.0.0.1:2624
FROM=news@remote.example
EHLO=mail.remote.example
TO=u1@test.example,u2@test.example,u3@test.example,u4@test.example,u5@test.example,u6@test.example,u7@test.example,u8@test.example,u9@test.example
# The configurations measured, in the order of the tables.
SERVERS="off checks clamd postfix lmtp"

BENCH=bench-ingest
. "$ROOT/scripts/bench-lib.sh"
CLAMD_PID=""
DNS_PID=""
stop_helpers() {
  for pid in $CLAMD_PID $DNS_PID; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
}
trap 'stop_helpers; cleanup' EXIT

# count SIZE: messages for about SECONDS_PER_RUN seconds at the rate Postfix reaches on a
# two-core machine with 20 connections or more (about 500 msg/s).
count() {
  local rate=500
  [ "$1" -gt 65536 ] && rate=$((rate * 2 / 3))
  echo $((rate * SECONDS_PER_RUN))
}

# bench ADDR SIZE CONC COUNT [FLAGS...]: one mailbench run of the sample message of SIZE;
# prints "msgs/s p50_ms", or "failed -".
bench() {
  local addr=$1 size=$2 conc=$3 n=$4
  shift 4
  local out="$WORK/mailbench-$addr-$size-$conc.txt"
  if ! "$WORK/mailbench" smtp --addr "$addr" --from "$FROM" --to "$TO" --ehlo "$EHLO" \
    --message "$WORK/sample-$size.eml" --concurrency "$conc" --count "$n" "$@" >"$out" 2>&1; then
    log "mailbench against $addr failed:"
    sed 's/^/  /' "$out" >&2
    echo "failed -"
    return
  fi
  awk '/^messages\/s/ {rate=$2} /^latency p50/ {p50=$3} END {print rate, p50}' "$out"
}

# median VALUES...: the median of the numbers given, "failed" if any failed.
median() {
  printf '%s\n' "$@" | sort -g | awk '/failed/ {f=1} {v[NR]=$1} END {
    if (f || NR == 0) print "failed"; else if (NR % 2) print v[(NR+1)/2]; else printf "%.1f\n", (v[NR/2]+v[NR/2+1])/2 }'
}

# ratio A B: A/B with two decimals, "-" if either is missing.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }'; }

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

if port_open "$POSTFIX_ADDR" && port_open "$LMTP_ADDR"; then
  log "reference servers already running"
else
  log "starting reference servers"
  PEERS_DIR=$PEERS_DIR "$REFERENCE_SERVERS" start >&2
  STARTED_REFERENCE=1
  for a in "$POSTFIX_ADDR" "$LMTP_ADDR"; do
    port_open "$a" || { log "nothing listens on $a"; exit 1; }
  done
fi

log "writing the sample messages and their DNS zone"
"$WORK/mailbench" sample --dir "$WORK" $(for size in $SIZES; do echo --size "$size"; done)
records=()
while IFS= read -r rr; do records+=(--record "$rr"); done <"$WORK/zone.txt"
"$WORK/mailbench" dns "${records[@]}" >"$WORK/dns.log" 2>&1 &
DNS_PID=$!
for _ in $(seq 100); do grep -q '^listening on ' "$WORK/dns.log" && break; sleep 0.1; done
DNS_ADDR=$(sed -n 's/^listening on //p' "$WORK/dns.log")
[ -n "$DNS_ADDR" ] || { log "mailbench dns did not start:"; cat "$WORK/dns.log" >&2; exit 1; }
log "DNS zone on $DNS_ADDR"

log "starting clamd"
mkdir -p "$WORK/clamd"
cp -r "$CLAMAV_DB" "$WORK/clamd/db"
cat >"$WORK/clamd/clamd.conf" <<CONF
Foreground yes
LocalSocket $WORK/clamd/clamd.sock
DatabaseDirectory $WORK/clamd/db
TemporaryDirectory $WORK/clamd
LogFile $WORK/clamd/clamd.log
StreamMaxLength 100M
CONF
"$CLAMD" -c "$WORK/clamd/clamd.conf" >/dev/null 2>&1 &
CLAMD_PID=$!
for _ in $(seq 300); do [ -S "$WORK/clamd/clamd.sock" ] && break; sleep 0.1; done
[ -S "$WORK/clamd/clamd.sock" ] || { log "clamd did not start:"; cat "$WORK/clamd/clamd.log" >&2; exit 1; }

# posthorn_config MODE: the configuration of posthorn in MODE (off, checks, clamd), with its own
# data directory, in $WORK/posthorn.toml.
posthorn_config() {
  write_config smtp http <<CONF
[dns]
resolver = "$DNS_ADDR"
[smtp]
# Every benchmark connection comes from 127.0.0.1.
max_connections_per_address = 1000
[log]
level = "info"
mail_log = "mail-$1.log"
[filter]
enabled = $([ "$1" = off ] && echo false || echo true)
[filter.clamd]
address = "$([ "$1" = clamd ] && echo "unix:$WORK/clamd/clamd.sock")"
CONF
  sed -i "s/^data_dir = \"data\"\$/data_dir = \"data-$1\"/" "$WORK/posthorn.toml"
}
P() { "$WORK/posthorn" -c "$WORK/posthorn.toml" "$@"; }

for mode in off checks clamd; do
  posthorn_config "$mode"
  P domain add test.example >/dev/null
  for i in 1 2 3 4 5 6 7 8 9; do
    echo "benchmark password $i" | P user add "u$i@test.example" --password-stdin >/dev/null
  done
done

# start_server NAME: starts posthorn in mode NAME, or nothing for a reference server; sets ADDR
# to its address.
start_server() {
  case $1 in
  postfix) ADDR=$POSTFIX_ADDR ;;
  lmtp) ADDR=$LMTP_ADDR ;;
  *)
    posthorn_config "$1"
    serve_posthorn smtp
    ADDR=$(listener_addr smtp)
    ;;
  esac
}

# measure NAME ROUND: runs every size against server NAME, and records "msgs/s p50" in
# $WORK/result-NAME-SIZE-ROUND.
measure() {
  local name=$1 round=$2 flags=()
  start_server "$name"
  [ "$name" = lmtp ] && flags=(--lmtp)
  if [ "$round" = 0 ]; then
    log "warming up $name"
    bench "$ADDR" 4096 "$CONCURRENCY" 200 "${flags[@]}" >/dev/null
  fi
  for size in $SIZES; do
    n=$(count "$size")
    if [ "$round" != 0 ]; then
      log "round $round, $name, size $size, $n messages, load $(cut -d' ' -f1-3 /proc/loadavg)"
      bench "$ADDR" "$size" "$CONCURRENCY" "$n" "${flags[@]}" >"$WORK/result-$name-$size-$round"
    fi
    [ "$name" = postfix ] && drain_postfix
  done
  stop_posthorn
}

for name in $SERVERS; do measure "$name" 0; done
loads=()
for round in $(seq "$REPEAT"); do
  loads+=("$(cut -d' ' -f1-3 /proc/loadavg)")
  for name in $SERVERS; do measure "$name" "$round"; done
done

label() { echo "$(($1 / 1024)) KiB"; }
title() {
  case $1 in
  off) echo "posthorn, filter off" ;;
  checks) echo "posthorn, default checks" ;;
  clamd) echo "posthorn, checks + clamd" ;;
  postfix) echo "Postfix smtpd" ;;
  lmtp) echo "Dovecot LMTP" ;;
  esac
}

# rate NAME SIZE: the median rate of NAME at SIZE.
rate() {
  local r v=()
  for r in $(seq "$REPEAT"); do v+=("$(cut -d' ' -f1 "$WORK/result-$1-$2-$r")"); done
  median "${v[@]}"
}

echo "load average (1, 5, 15 min) at the start of each round: $(
  IFS=';'
  echo "${loads[*]}"
)"
echo
echo "Stored (Postfix: accepted) messages/s, c=$CONCURRENCY, median of $REPEAT (each run's figures in brackets):"
echo
printf '| server |'
for size in $SIZES; do printf ' %s msg/s | p50 ms |' "$(label "$size")"; done
echo
printf '|---|'
for _ in $SIZES; do printf -- '---:|---:|'; done
echo
status=0
for name in $SERVERS; do
  printf '| %s |' "$(title "$name")"
  for size in $SIZES; do
    runs=() p50s=()
    for r in $(seq "$REPEAT"); do
      read -r v p <"$WORK/result-$name-$size-$r"
      runs+=("$v") p50s+=("$p")
    done
    m=$(median "${runs[@]}")
    [ "$m" = failed ] && status=1
    printf ' %s (%s) | %s |' "$m" "$(
      IFS=/
      echo "${runs[*]}"
    )" "$(median "${p50s[@]}")"
  done
  echo
done

echo
echo "Ratios of the medians, and the goals of issue 12 item 8:"
echo
echo "| size | checks / off | clamd / off | checks / Dovecot LMTP | checks / Postfix |"
echo "|---:|---:|---:|---:|---:|"
for size in $SIZES; do
  off=$(rate off "$size") checks=$(rate checks "$size") clamd=$(rate clamd "$size")
  echo "| $(label "$size") | $(ratio "$checks" "$off") (goal 0.85) | $(ratio "$clamd" "$off") (goal 0.60) |" \
    "$(ratio "$checks" "$(rate lmtp "$size")")$([ "$size" -gt 65536 ] && echo ' (goal > 1)') |" \
    "$(ratio "$checks" "$(rate postfix "$size")")$([ "$size" -le 8192 ] && echo ' (goal 2.00)') |"
done

# The sync count: strace attached to posthorn while SYNC_COUNT messages arrive.
if [ "$SYNC_COUNT" -gt 0 ] && command -v strace >/dev/null; then
  echo
  echo "posthorn's sync system calls per stored message ($SYNC_COUNT messages, c=$CONCURRENCY, strace -f -c):"
  echo
  echo "| configuration | size | fsync | fdatasync | syncfs | syncs/msg |"
  echo "|---|---:|---:|---:|---:|---:|"
  for mode in off checks clamd; do
    start_server "$mode"
    for size in $SIZES; do
      strace -f -c -e trace=fsync,fdatasync,syncfs -o "$WORK/strace-$mode-$size.txt" -p "$POSTHORN_PID" 2>/dev/null &
      strace_pid=$!
      sleep 1 # strace attaches to every thread of the process
      read -r got _ < <(bench "$ADDR" "$size" "$CONCURRENCY" "$SYNC_COUNT")
      kill -INT "$strace_pid"
      wait "$strace_pid" || true
      calls() { awk -v s="$1" '$NF == s {print $4; f=1} END {if (!f) print 0}' "$WORK/strace-$mode-$size.txt"; }
      fs=$(calls fsync) fds=$(calls fdatasync) sfs=$(calls syncfs)
      per=$(awk -v a="$fs" -v b="$fds" -v c="$sfs" -v n="$SYNC_COUNT" 'BEGIN { printf "%.2f", (a+b+c)/n }')
      [ "$got" = failed ] && per="- (run failed)"
      echo "| $(title "$mode") | $(label "$size") | $fs | $fds | $sfs | $per |"
    done
    stop_posthorn
  done
fi
exit $status
