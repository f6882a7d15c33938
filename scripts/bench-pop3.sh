#!/usr/bin/env bash
# Compares posthorn's POP3 server with Dovecot's on this machine: the same maildrop, the same
# client (mailbench pop3) and command line for both, rounds taken in turn, and prints a markdown
# table of medians on stdout; the full mailbench reports follow on stderr.
#
#   scripts/bench-pop3.sh            (as root: the Dovecot Maildir must belong to vmail)
#
# Both servers get the same MESSAGES messages (mailbench fill, corpus SEED: text/plain, 2-4 KiB)
# in the INBOX of u$N@test.example. Dovecot is the reference instance of
# ../shared/peers/reference-servers (POP3 on 127.0.0.1:2610, Maildir): its INBOX is emptied
# (cur/, new/, tmp/ and INBOX's index files; other folders stay) and written directly as Maildir
# files, then given to vmail. posthorn runs from a fresh temporary data directory on loopback
# ports chosen by the kernel and is filled over IMAP APPEND.
#
# One round per server is one POP3 session (mailbench pop3 --connections 1): connect, USER,
# PASS, LIST, then RETR of every message, each sent after the previous one's response, as
# fetchmail and mail clients do, then QUIT (nothing is deleted). Two figures per session:
#   - login: connect to the answer to PASS (posthorn: argon2id, unless its credential cache
#     holds the password);
#   - retr: first RETR to the last RETR's last line, so the login does not count; messages/s
#     is MESSAGES divided by it.
# The whole session's time (mailbench's "elapsed") adds both and LIST and QUIT; a figure of
# messages per second over it mixes the login's cost into the RETR rate.
#
# Environment: MESSAGES (default 1000), SEED (1), N (the reference user, 1), ROUNDS (7),
# WARMUP (2, untimed: Dovecot builds its index in the first session), REFERENCE_SERVERS,
# PEERS_DIR (default /tmp/posthorn-peers). The reference servers must be running.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PEERS_DIR=${PEERS_DIR:-/tmp/posthorn-peers}
MESSAGES=${MESSAGES:-1000}
SEED=${SEED:-1}
N=${N:-1}
ROUNDS=${ROUNDS:-7}
WARMUP=${WARMUP:-2}
DOVECOT_ADDR=127.0.0.1:2610
DOVECOT_USER=u$N@test.example
DOVECOT_PASSWORD=pass$N
MAILDIR=$PEERS_DIR/mail/test.example/u$N/Maildir
POSTHORN_USER=u$N@test.example
POSTHORN_PASSWORD="benchmark password $N"

BENCH=bench-pop3
. "$ROOT/scripts/bench-lib.sh"

port_open "$DOVECOT_ADDR" || { log "Dovecot POP3 is not listening on $DOVECOT_ADDR: start ${REFERENCE_SERVERS:-../shared/peers/reference-servers}"; exit 1; }

log "building posthorn and mailbench"
(cd "$ROOT" && go build -o "$WORK/posthorn" ./cmd/posthorn && go build -o "$WORK/mailbench" ./cmd/mailbench)

log "filling Dovecot: $MESSAGES messages into the INBOX of $DOVECOT_USER ($MAILDIR)"
mkdir -p "$MAILDIR"
rm -rf "$MAILDIR/cur" "$MAILDIR/new" "$MAILDIR/tmp" "$MAILDIR"/dovecot.index "$MAILDIR"/dovecot.index.cache \
  "$MAILDIR"/dovecot.index.log* "$MAILDIR"/dovecot-uidlist
mb fill-dovecot fill --count "$MESSAGES" --seed "$SEED" --to "$DOVECOT_USER" --maildir "$MAILDIR"
chown -R vmail:vmail "$(dirname "$MAILDIR")"

log "starting posthorn"
write_config smtp imap pop3 </dev/null
P() { "$WORK/posthorn" -c "$WORK/posthorn.toml" "$@"; }
P domain add test.example >/dev/null
echo "$POSTHORN_PASSWORD" | P user add "$POSTHORN_USER" --password-stdin >/dev/null
serve_posthorn imap pop3
IMAP_ADDR=$(listener_addr imap)
POP3_ADDR=$(listener_addr pop3)
log "filling posthorn: $MESSAGES messages over IMAP APPEND on $IMAP_ADDR"
mb fill-posthorn fill --count "$MESSAGES" --seed "$SEED" --to "$DOVECOT_USER" --concurrency 8 \
  --addr "$IMAP_ADDR" --user "$POSTHORN_USER" --password "$POSTHORN_PASSWORD"

# field FILE KEY: the number after KEY of a line of a mailbench text report.
field() { awk -v k="$2" '$0 ~ "^" k " +[0-9]" { sub("^" k " +", ""); print $1 }' "$WORK/$1.txt"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.3g", a / b; else print "-" }'; }

session() { # session NAME ADDR USER PASSWORD
  mb "$1" pop3 --addr "$2" --user "$3" --password "$4" --connections 1
}
: >"$WORK/p-retr" >"$WORK/d-retr" >"$WORK/p-login" >"$WORK/d-login" >"$WORK/p-elapsed" >"$WORK/d-elapsed"
for round in $(seq $((WARMUP + ROUNDS))); do
  session p "$POP3_ADDR" "$POSTHORN_USER" "$POSTHORN_PASSWORD"
  session d "$DOVECOT_ADDR" "$DOVECOT_USER" "$DOVECOT_PASSWORD"
  for s in p d; do
    sent=$(field "$s" sent)
    [ "$sent" = "$MESSAGES" ] || { log "round $round: $s retrieved $sent messages, not $MESSAGES"; cat "$WORK/$s.txt" >&2; exit 1; }
    [ "$round" -gt "$WARMUP" ] || continue
    field "$s" retr >>"$WORK/$s-retr"
    field "$s" "login p50" >>"$WORK/$s-login"
    field "$s" elapsed >>"$WORK/$s-elapsed"
    cat "$WORK/$s.txt" >>"$WORK/$s-reports"
  done
done

pr=$(median <"$WORK/p-retr") dr=$(median <"$WORK/d-retr")
pl=$(median <"$WORK/p-login") dl=$(median <"$WORK/d-login")
pe=$(median <"$WORK/p-elapsed") de=$(median <"$WORK/d-elapsed")
ms() { awk -v s="$1" 'BEGIN { printf "%.1f", s * 1000 }'; }
rate() { awk -v s="$1" -v n="$MESSAGES" 'BEGIN { printf "%.0f", n / s }'; }
echo "POP3, INBOX of $MESSAGES messages (2-4 KiB, mailbench fill seed $SEED) on each server; one session per round, rounds in turn; median of $ROUNDS rounds after $WARMUP warm-up."
echo "Ratio: posthorn ÷ Dovecot (below 1: posthorn is faster)."
echo
echo "| | posthorn | Dovecot | ratio |"
echo "|---|---:|---:|---:|"
echo "| RETR of $MESSAGES messages, one after another (login excluded) | $(ms "$pr") ms ($(rate "$pr") msg/s) | $(ms "$dr") ms ($(rate "$dr") msg/s) | $(ratio "$pr" "$dr") |"
echo "| connect + USER + PASS | $pl ms | $dl ms | $(ratio "$pl" "$dl") |"
echo "| whole session (login, LIST, RETR, QUIT) | $(ms "$pe") ms ($(rate "$pe") msg/s) | $(ms "$de") ms ($(rate "$de") msg/s) | $(ratio "$pe" "$de") |"
log "posthorn rounds:"
sed 's/^/  /' "$WORK/p-reports" >&2
log "Dovecot rounds:"
sed 's/^/  /' "$WORK/d-reports" >&2
