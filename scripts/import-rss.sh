#!/usr/bin/env bash
# import-rss.sh: peak RSS of `posthorn import mbox` of N small generated messages (default
# 200,000), under /usr/bin/time -v, then of a second run that copies nothing. Prints the two
# figures and the summaries. Usage: scripts/import-rss.sh [N]   (from the repository's root)
set -euo pipefail
BENCH=import-rss
N=${1:-200000}
source "$(dirname "$0")/bench-lib.sh"

offline_posthorn

log "writing an mbox of $N messages"
awk -v n="$N" 'BEGIN {
  for (i = 0; i < n; i++) {
    printf "From sender%d@example.net Thu Jan  1 10:00:00 2026\n", i
    printf "From: sender%d@example.net\nTo: alice@example.org\nSubject: message %d\nMessage-ID: <%d@example.net>\n\nbody of message %d\n>From a quoted line\n\n", i, i, i, i
  }
}' >"$WORK/mbox"
log "mbox: $(du -h "$WORK/mbox" | cut -f1)"

for pass in first second; do
  start=$(date +%s)
  /usr/bin/time -v "${P[@]}" import mbox "$WORK/mbox" --account alice@example.org \
    >"$WORK/$pass.out" 2>"$WORK/$pass.time"
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/$pass.time")
  echo "$pass run: $(cat "$WORK/$pass.out"); peak RSS ${rss} KiB; $(( $(date +%s) - start )) s"
done
