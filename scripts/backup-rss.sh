#!/usr/bin/env bash
# backup-rss.sh: peak RSS and run time of `posthorn backup create` of a data directory of N
# small messages (default 100,000, imported from a generated mbox), under /usr/bin/time -v;
# then of an incremental backup after N/10 more, of `backup verify` of the incremental with
# its chain and of `restore` of the chain. Prints one line per run and the archive sizes.
# Usage: scripts/backup-rss.sh [N]   (from the repository's root)
set -euo pipefail
BENCH=backup-rss
N=${1:-100000}
MORE=$(( N / 10 ))
source "$(dirname "$0")/bench-lib.sh"

offline_posthorn

# mbox FIRST COUNT FILE: COUNT generated messages numbered from FIRST.
mbox() {
  awk -v first="$1" -v n="$2" 'BEGIN {
    for (i = first; i < first + n; i++) {
      printf "From sender%d@example.net Thu Jan  1 10:00:00 2026\n", i
      printf "From: sender%d@example.net\nTo: alice@example.org\nSubject: message %d\nMessage-ID: <%d@example.net>\n\n", i, i, i
      for (l = 0; l < 8; l++) printf "line %d of the body of message %d, %08x\n", l, i, (i * 2654435761 + l) % 4294967296
      printf "\n"
    }
  }' >"$3"
}

# measure NAME ARGS...: runs posthorn ARGS under /usr/bin/time -v and prints its peak RSS and time.
measure() {
  local name=$1
  shift
  local start=$(date +%s.%N)
  /usr/bin/time -v "${P[@]}" "$@" >"$WORK/$name.out" 2>"$WORK/$name.time"
  local rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$name.time")
  printf '%s: peak RSS %s KiB, %.1f s: %s\n' "$name" "$rss" "$(echo "$(date +%s.%N) - $start" | bc)" "$(cat "$WORK/$name.out")"
}

log "importing $N messages"
mbox 0 "$N" "$WORK/mbox"
"${P[@]}" import mbox "$WORK/mbox" --account alice@example.org >/dev/null
log "data: $(du -sh "$WORK/data" | cut -f1)"
mkdir "$WORK/backups"
measure "backup create (full, $N messages)" backup create "$WORK/backups/full.tar.zst"

log "importing $MORE more"
mbox "$N" "$MORE" "$WORK/mbox2"
"${P[@]}" import mbox "$WORK/mbox2" --account alice@example.org >/dev/null
measure "backup create --incremental-from (+$MORE)" backup create "$WORK/backups/incr.tar.zst" \
  --incremental-from "$WORK/backups/full.tar.zst"
measure "backup verify (incremental and chain)" backup verify "$WORK/backups/incr.tar.zst"
measure "restore (incremental and chain)" restore "$WORK/backups/incr.tar.zst" --data "$WORK/restored"
echo "archives: full $(stat -c %s "$WORK/backups/full.tar.zst") bytes, incremental $(stat -c %s "$WORK/backups/incr.tar.zst") bytes"
