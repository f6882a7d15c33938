# bench-lib.sh: what the benchmark scripts share. A script sets BENCH (its name, for log lines
# and the work directory) and sources this file: it gets $WORK, a fresh directory, removed at
# exit together with the posthorn it started (POSTHORN_PID) and the reference servers it started
# (STARTED_REFERENCE set, with REFERENCE_SERVERS and PEERS_DIR). KEEP_WORK=1 keeps $WORK, to look
# at the logs and data afterwards.

WORK=$(mktemp -d "/tmp/posthorn-$BENCH.XXXXXX")
POSTHORN_PID=""
POSTHORN_STARTED=""
STARTED_REFERENCE=""

log() { echo "$BENCH: $*" >&2; }

# port_open HOST:PORT: whether something listens there.
port_open() { (exec 3<>"/dev/tcp/${1%:*}/${1#*:}") 2>/dev/null; }

stop_posthorn() {
  if [ -n "$POSTHORN_PID" ]; then
    kill "$POSTHORN_PID" 2>/dev/null || true
    wait "$POSTHORN_PID" 2>/dev/null || true
    POSTHORN_PID=""
  fi
}

cleanup() {
  stop_posthorn
  if [ -n "$STARTED_REFERENCE" ]; then
    PEERS_DIR=$PEERS_DIR "$REFERENCE_SERVERS" stop || true
  fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# serve_posthorn LISTENER...: starts "posthorn serve" on $WORK/posthorn.toml (directly, so that
# POSTHORN_PID is posthorn itself) and waits until its start line names each listener; then
# listener_addr NAME prints that listener's address.
serve_posthorn() {
  "$WORK/posthorn" -c "$WORK/posthorn.toml" serve >"$WORK/posthorn.log" 2>&1 &
  POSTHORN_PID=$!
  local ready
  for _ in $(seq 200); do
    POSTHORN_STARTED=$(grep 'posthorn started' "$WORK/posthorn.log" || true)
    ready=${POSTHORN_STARTED:+yes}
    for l in "$@"; do
      echo "$POSTHORN_STARTED" | grep -q " $l=127\.0\.0\.1:[0-9]" || ready=""
    done
    [ -n "$ready" ] && return
    kill -0 "$POSTHORN_PID" 2>/dev/null || break
    sleep 0.1
  done
  log "posthorn did not start"
  cat "$WORK/posthorn.log" >&2
  exit 1
}

listener_addr() { echo "$POSTHORN_STARTED" | grep -o " $1=127\.0\.0\.1:[0-9]*" | cut -d= -f2; }

# mb NAME ARGS...: runs mailbench, keeps its output in $WORK/NAME.txt, stops the script if it fails.
mb() {
  local name=$1
  shift
  if ! "$WORK/mailbench" "$@" >"$WORK/$name.txt" 2>"$WORK/$name.err"; then
    log "mailbench $1 ($name) failed:"
    sed 's/^/  /' "$WORK/$name.txt" "$WORK/$name.err" >&2
    exit 1
  fi
}

# write_config LISTENER...: writes $WORK/posthorn.toml with the listeners named on loopback
# ports the system picks and every other listener off, followed by what comes on standard input.
write_config() {
  {
    echo 'hostname = "mx.test.example"'
    echo 'data_dir = "data"'
    echo '[listen]'
    for l in smtp submission submissions imap imaps pop3 pop3s http; do
      if [[ " $* " == *" $l "* ]]; then echo "$l = \"127.0.0.1:0\""; else echo "$l = \"\""; fi
    done
    cat
  } >"$WORK/posthorn.toml"
}

# offline_posthorn: builds posthorn into $WORK and a data directory in $WORK/data for commands
# that run without a server (import, backup), with the domain example.org and the account
# alice@example.org; P is then the command line of posthorn on its configuration.
offline_posthorn() {
  go build -o "$WORK/posthorn" ./cmd/posthorn
  cat >"$WORK/posthorn.toml" <<CONF
data_dir = "$WORK/data"
hostname = "mx.example.org"
CONF
  P=("$WORK/posthorn" -c "$WORK/posthorn.toml")
  "${P[@]}" domain add example.org >/dev/null
  echo "correct horse battery" | "${P[@]}" user add alice@example.org --password-stdin >/dev/null
}
