#!/usr/bin/env bash
# Shows the per-address connection limit of every listener in action, on the default limits: for
# each of SMTP, submission, IMAP, POP3 and HTTP it opens connections from 127.0.0.1 (and keeps
# them open) until one is refused, prints how many were served and the refusal, then connects
# from 127.0.0.2 (loopback on Linux too) and prints what that connection got.
#
#   scripts/conn-limits.sh
#
# posthorn is built from this checkout and runs from a temporary data directory on loopback
# ports BASE+25, +587, +143, +110, +80 (BASE, default 37000), with nothing in the configuration
# but the listeners: every limit is the default.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:-37000}
WORK=$(mktemp -d)
PID=
cleanup() {
  [ $? -ne 0 ] && [ -f "$WORK/posthorn.log" ] && tail -5 "$WORK/posthorn.log" >&2
  [ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
go build -o "$WORK/posthorn" ./cmd/posthorn
cat >"$WORK/posthorn.toml" <<CONF
hostname = "mx.test.example"
data_dir = "data"
[listen]
smtp = "127.0.0.1:$((BASE + 25))"
submission = "127.0.0.1:$((BASE + 587))"
submissions = ""
imap = "127.0.0.1:$((BASE + 143))"
imaps = ""
pop3 = "127.0.0.1:$((BASE + 110))"
pop3s = ""
http = "127.0.0.1:$((BASE + 80))"
CONF
"$WORK/posthorn" -c "$WORK/posthorn.toml" serve 2>"$WORK/posthorn.log" &
PID=$!
BASE=$BASE python3 - <<'PY'
import os, socket, time

base = int(os.environ["BASE"])
listeners = [("SMTP", base + 25, None), ("submission", base + 587, None), ("IMAP", base + 143, None),
             ("POP3", base + 110, None), ("HTTP", base + 80, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")]

def connect(port, source, request):
    s = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    if request:
        s.sendall(request)
    return s, s.makefile("rb").readline().decode().rstrip("\r\n")

deadline = time.time() + 120
for _, port, _ in listeners:
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)

for name, port, request in listeners:
    held = []
    while True:
        s, line = connect(port, "127.0.0.1", request)
        if any(line.startswith(p) for p in ("421 ", "* BYE", "-ERR", "HTTP/1.1 503")):
            print(f"{name:10} from 127.0.0.1: connections 1-{len(held)} served, connection {len(held) + 1}: {line}")
            s.close()
            break
        held.append(s)
        if len(held) > 5000:
            raise SystemExit(f"{name}: no limit after 5000 connections")
    s, line = connect(port, "127.0.0.2", request)
    print(f"{name:10} from 127.0.0.2 meanwhile: {line}")
    s.close()
    for h in held:
        h.close()
PY

