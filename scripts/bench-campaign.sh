#!/usr/bin/env bash
# Campaign delivery rate with the built binary: posthorn renders, DKIM-signs (RSA-2048 and
# Ed25519), queues and delivers one personalised message per subscriber to a `mailbench sink`
# on loopback, through [delivery] smarthost.
#
# Set-up (before the server starts): a local domain bench.example with its two DKIM keys
# (`domain add` makes them), a list of N subscribers (default 100,000) imported from CSV with
# tracking consent, across 20 remote domains, and a campaign with tracking on whose subject and
# HTML body (about 3 KiB, three links and the unsubscribe link) use the subscriber's name and
# attributes. Then the sink starts, `posthorn serve` starts, and `posthorn campaign start 1`
# fills the ledger and starts the campaign; the sender and the queue run at once, as in
# production.
#
# Reported:
#   - queued: from `campaign start` to the campaign finished (every ledger row handed to the
#     queue: rendered, signed and committed), with messages/s;
#   - delivered: the sink's count and rate from its first message to its last, in messages/s
#     and messages/hour, and the wall time from `campaign start` to the last message;
#   - peak RSS of the posthorn server process (/proc/PID/status VmHWM, read at the end);
#   - DKIM: the sink keeps the first KEEP messages whole; each must carry a DKIM-Signature with
#     a=rsa-sha256 and one with a=ed25519-sha256, and dkimpy (python3-dkim) must verify both
#     with the public keys of `posthorn domain dns`.
#
# Usage: scripts/bench-campaign.sh [N]
# Environment: CONNS (connections to the sink, [delivery] max_connections_per_domain; 10),
# KEEP (messages checked for DKIM; 20), TIMEOUT (seconds the whole send may take; 3600).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
CONNS=${CONNS:-10}
KEEP=${KEEP:-20}
TIMEOUT=${TIMEOUT:-3600}
/usr/bin/python3 -c 'import dkim' 2>/dev/null || {
  echo "bench-campaign: dkimpy is missing (apt-get install python3-dkim)" >&2
  exit 1
}

BENCH=bench-campaign
. "$ROOT/scripts/bench-lib.sh"
SINK_PID=""
stop_sink() {
  if [ -n "$SINK_PID" ]; then
    kill "$SINK_PID" 2>/dev/null || true
    wait "$SINK_PID" 2>/dev/null || true
    SINK_PID=""
  fi
}
trap 'stop_sink; cleanup' EXIT

log "building posthorn and mailbench"
(cd "$ROOT" && go build -o "$WORK/posthorn" ./cmd/posthorn && go build -o "$WORK/mailbench" ./cmd/mailbench)
P() { "$WORK/posthorn" -c "$WORK/posthorn.toml" "$@"; }

# The sink's port: one the system gives, released for the sink to take.
SINK=127.0.0.1:$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_config smtp <<CONF
[log]
level = "info"
[limits]
send_per_hour = 0
send_per_day = 0
[delivery]
smarthost = "$SINK"
max_connections_per_domain = $CONNS
[campaign]
public_url = "https://news.bench.example"
CONF

log "set-up: domain, $N subscribers, campaign"
P domain add bench.example >/dev/null
P list create news >/dev/null
awk -v n="$N" 'BEGIN {
  print "email,name,city,plan"
  for (i = 0; i < n; i++) printf "reader%d@d%d.example,Reader %d,City %d,%s\n", i, i % 20, i, i % 50, (i % 3 ? "gold" : "free")
}' >"$WORK/people.csv"
P subscriber import "$WORK/people.csv" --list news --tracking >"$WORK/import.txt"
{
  echo '<html><body><h1>News for {{.Name}}</h1>'
  echo '<p>Hello {{.Name}} in {{attr "city"}}, your plan is {{attr "plan"}}.</p>'
  for i in $(seq 12); do
    echo "<p>Paragraph $i of this month's letter: what changed, what is coming, and where to read more about it. Thank you for reading, {{.Name}}.</p>"
  done
  echo '<p><a href="https://bench.example/one">One</a>, <a href="https://bench.example/two">two</a> and <a href="https://bench.example/three">three</a>.</p>'
  echo '<p><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>'
} >"$WORK/body.html"
P campaign create bench --from "News <news@bench.example>" --list news --subject 'News for {{.Name}}' \
  --html "$WORK/body.html" >/dev/null
P domain dns bench.example >"$WORK/dns.txt"

mkdir "$WORK/kept"
"$WORK/mailbench" sink --listen "$SINK" --expect "$N" --interval 0 --duration "${TIMEOUT}s" \
  --keep-dir "$WORK/kept" --keep "$KEEP" >"$WORK/sink.txt" 2>"$WORK/sink.err" &
SINK_PID=$!
for _ in $(seq 100); do port_open "$SINK" && break; sleep 0.1; done
serve_posthorn smtp

load_start=$(uptime | sed 's/.*load average: //')
start=$(date +%s.%N)
P campaign start 1 >"$WORK/start.txt"
log "$(cat "$WORK/start.txt")"
queued=""
deadline=$(($(date +%s) + TIMEOUT))
while [ "$(date +%s)" -lt "$deadline" ]; do
  if P campaign show 1 | grep -q ': finished at '; then
    queued=$(date +%s.%N)
    break
  fi
  kill -0 "$POSTHORN_PID" 2>/dev/null || { log "posthorn exited"; cat "$WORK/posthorn.log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$queued" ] || { log "the campaign did not finish in ${TIMEOUT}s"; exit 1; }
wait "$SINK_PID" || true
SINK_PID=""
delivered=$(date +%s.%N)
peak=$(awk '/^VmHWM:/ {printf "%.1f", $2 / 1024}' "/proc/$POSTHORN_PID/status")
stop_posthorn

# The sink's report: "sink: M messages, ...; first to last message S s: R messages/s".
sink=$(cat "$WORK/sink.txt")
got=$(echo "$sink" | sed -E 's/^sink: ([0-9]+) messages.*/\1/')
rate=$(echo "$sink" | sed -E 's/.*: ([0-9.]+) messages\/s$/\1/')
dkim=$(/usr/bin/python3 - "$WORK/dns.txt" "$WORK"/kept/*.eml <<'PY'
import re, sys, dkim
# The DKIM TXT records of `posthorn domain dns`: NAME. TTL IN TXT ( "part" "part" ... )
zone = open(sys.argv[1]).read()
records = {}
for m in re.finditer(r'^(\S+\._domainkey\.\S+?)\.\s+\d+\s+IN\s+TXT\s+\(((?:\s*"[^"]*")+)\s*\)', zone, re.M):
    records[m.group(1).lower()] = ''.join(re.findall(r'"([^"]*)"', m.group(2)))
def dnsfunc(name, timeout=5):
    return records.get(name.decode().rstrip('.').lower(), '').encode()
good = 0
files = sys.argv[2:]
for path in files:
    msg = open(path, 'rb').read()
    d = dkim.DKIM(msg)
    algs = sorted(a.decode() for a in re.findall(rb'(?im)^DKIM-Signature:.*?\ba=([a-z0-9-]+)', msg.replace(b'\r\n\t', b' ').replace(b'\r\n ', b' ')))
    ok = []
    for i in range(msg.count(b'DKIM-Signature:')):
        try:
            ok.append(bool(d.verify(idx=i, dnsfunc=dnsfunc)))
        except dkim.ValidationError:
            ok.append(False)
    if algs == ['ed25519-sha256', 'rsa-sha256'] and ok == [True, True]:
        good += 1
    else:
        print('%s: signatures %s, verified %s' % (path, algs, ok), file=sys.stderr)
print('%d of %d messages with a=rsa-sha256 and a=ed25519-sha256, both verified by dkimpy' % (good, len(files)))
sys.exit(0 if files and good == len(files) else 1)
PY
) || dkim="FAILED: $dkim"

awk -v n="$N" -v got="$got" -v rate="$rate" -v s="$start" -v q="$queued" -v d="$delivered" -v peak="$peak" \
  -v conns="$CONNS" -v load="$load_start" -v load_end="$(uptime | sed 's/.*load average: //')" -v sink="$sink" -v dkim="$dkim" 'BEGIN {
  printf "bench-campaign: N=%d, %d connections to the sink, load average at the start %s, at the end %s\n", n, conns, load, load_end
  printf "  queued (render+sign+commit) %d in %.1fs: %.0f messages/s\n", n, q - s, n / (q - s)
  printf "  delivered %d: %.1f messages/s, %.0f messages/hour (sink, first to last); start to last %.1fs\n", got, rate, rate * 3600, d - s
  printf "  peak RSS of posthorn serve (VmHWM): %s MiB\n", peak
  printf "  DKIM: %s\n", dkim
  printf "  %s\n", sink
}'
[ "$got" = "$N" ] && [[ "$dkim" != FAILED* ]]
