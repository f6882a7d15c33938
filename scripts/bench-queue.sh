#!/usr/bin/env bash
# Outbound queue throughput: posthorn's queue against Postfix's, in one run, both relaying the
# same load to the same `mailbench sink` on 127.0.0.1:2526.
#
# For each server: the sink is down while N messages (default 1,000, one recipient each, 1,000
# recipients across 10 domains) are submitted, so every message waits in the queue after a
# failed first attempt; then the sink starts and the queue is flushed (`posthorn queue retry
# --all`, `postqueue -f`). The figure is the sink's: messages/s from the first message it
# receives to the last, and the wall time from the flush to the last message.
#
# Both servers relay through a smarthost (posthorn [delivery] smarthost, Postfix relayhost) so
# neither needs DNS; both may open 20 connections to it (posthorn max_connections_per_domain,
# Postfix's default smtp_destination_concurrency_limit). Postfix runs as its own instance with
# its own configuration and queue under $W (as root), started and stopped by this script.
#
# Usage: scripts/bench-queue.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v postfix >/dev/null || { echo "bench-queue: Postfix is not installed (apt-get install postfix)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench-queue: run as root (Postfix runs its own instance)" >&2; exit 1; }
N=${1:-1000}
SINK=127.0.0.1:2526
W=$(mktemp -d /tmp/posthorn-bench-queue.XXXXXX)
chmod 755 "$W" # Postfix's own users work in its queue under it
PF=$W/postfix
PFPORT=2725

go build -o "$W/posthorn" ./cmd/posthorn
go build -o "$W/mailbench" ./cmd/mailbench

cleanup() {
  [ -n "${PH_PID:-}" ] && kill "$PH_PID" 2>/dev/null && wait "$PH_PID" 2>/dev/null || true
  [ -f "$PF/spool/pid/master.pid" ] && postfix -c "$PF" stop >/dev/null 2>&1 || true
  [ -n "${SINK_PID:-}" ] && kill "$SINK_PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT

recipients=$(for d in 0 1 2 3 4 5 6 7 8 9; do printf 'r{n}@d%s.example,' "$d"; done)
recipients=${recipients%,}

wait_port() {
  for _ in $(seq 100); do (exec 3<>/dev/tcp/${1%:*}/${1#*:}) 2>/dev/null && return 0; sleep 0.1; done
  echo "nothing listens on $1" >&2
  return 1
}

# run_sink NAME: start the sink expecting N messages; its report goes to $W/NAME.sink.
run_sink() {
  "$W/mailbench" sink --listen "$SINK" --expect "$N" --interval 0 >"$W/$1.sink" 2>/dev/null &
  SINK_PID=$!
  wait_port "$SINK"
}

# finish_sink NAME START: wait for the sink, print its report and the wall time since START.
finish_sink() {
  wait "$SINK_PID"
  SINK_PID=
  local end
  end=$(date +%s.%N)
  printf '%-9s %s  flush to last message: %.3fs\n' "$1" "$(cat "$W/$1.sink")" "$(awk "BEGIN {print $end - $2}")"
}

# --- posthorn ---------------------------------------------------------------------------------
PH=$W/posthorn-data
mkdir -p "$PH"
cat >"$PH/posthorn.toml" <<CONF
hostname = "mx.bench.example"
data_dir = "data"
[listen]
smtp = "127.0.0.1:2825"
submission = "127.0.0.1:2887"
submissions = ""
imap = ""
imaps = ""
pop3 = ""
pop3s = ""
http = "127.0.0.1:2880"
[log]
level = "warn"
[smtp]
# Every benchmark connection comes from 127.0.0.1.
max_connections_per_address = 1000
[limits]
send_per_hour = 0
send_per_day = 0
[delivery]
smarthost = "$SINK"
retry_min_seconds = 3600
retry_max_seconds = 3600
max_connections_per_domain = 20
CONF
"$W/posthorn" -c "$PH/posthorn.toml" domain add bench.example >/dev/null
echo "bench password" | "$W/posthorn" -c "$PH/posthorn.toml" user add sender@bench.example --password-stdin >/dev/null
"$W/posthorn" -c "$PH/posthorn.toml" serve 2>"$W/posthorn.log" &
PH_PID=$!
wait_port 127.0.0.1:2887
"$W/mailbench" smtp --addr 127.0.0.1:2887 --auth-user sender@bench.example --auth-password "bench password" \
  --from sender@bench.example --to "$recipients" --count "$N" --concurrency 10 --size 4096 >"$W/posthorn.inject"
for _ in $(seq 300); do
  "$W/posthorn" -c "$PH/posthorn.toml" queue list | tail -1 | grep -qx "$N queued" && break
  sleep 0.2
done
run_sink posthorn
start=$(date +%s.%N)
"$W/posthorn" -c "$PH/posthorn.toml" queue retry --all >/dev/null
finish_sink posthorn "$start"
kill "$PH_PID"
wait "$PH_PID" || true
PH_PID=

# --- Postfix ----------------------------------------------------------------------------------
mkdir -p "$PF/spool" "$PF/lib"
chown postfix "$PF/lib"
cat >"$PF/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $PF/spool
data_directory = $PF/lib
command_directory = /usr/sbin
daemon_directory = /usr/lib/postfix/sbin
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.bench.example
mydomain = bench.example
myorigin = bench.example
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
smtp_dns_support_level = disabled
relayhost = [127.0.0.1]:${SINK#*:}
smtp_destination_concurrency_limit = 20
biff = no
default_process_limit = 200
maillog_file = $PF/maillog
maillog_file_prefixes = /var, /dev/stdout, /tmp
CONF
sed -e 's/^smtp      inet  n       -       y       -       -       smtpd/#&/' /etc/postfix/master.cf >"$PF/master.cf"
echo "127.0.0.1:$PFPORT inet n  -       n       -       -       smtpd" >>"$PF/master.cf"
sed -i -E 's/^([a-z0-9]+ +(unix|fifo|unix-dgram|pass) +[-ny] +[-ny] +)y/\1n/' "$PF/master.cf"
postfix -c "$PF" set-permissions >/dev/null 2>&1 || true
postfix -c "$PF" start >/dev/null 2>&1
wait_port 127.0.0.1:$PFPORT
"$W/mailbench" smtp --addr 127.0.0.1:$PFPORT --from sender@bench.example --to "$recipients" --count "$N" \
  --concurrency 10 --size 4096 >"$W/postfix.inject"
for _ in $(seq 300); do
  postqueue -c "$PF" -p | tail -1 | grep -q "in $N Request" && break
  sleep 0.2
done
run_sink postfix
start=$(date +%s.%N)
postqueue -c "$PF" -f
finish_sink postfix "$start"
