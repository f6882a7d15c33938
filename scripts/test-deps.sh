#!/usr/bin/env bash
# Installs the Debian programs the end-to-end tests drive (when missing): swaks, Python 3,
# curl, fetchmail, mbsync (package isync), dkimpy (package python3-dkim, for dkimverify) and
# clamd (package clamav-daemon), chromium (the web UI's browser tests, through chromedp) and
# Dovecot's IMAP server (package dovecot-imapd, the source of internal/importer's IMAP import test)
# and PostgreSQL (package postgresql: internal/testutil/pgtest runs a throwaway server).
# Runs as root (CI) or through sudo.
set -euo pipefail
need=()
command -v swaks >/dev/null 2>&1 || need+=(swaks)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v fetchmail >/dev/null 2>&1 || need+=(fetchmail)
command -v mbsync >/dev/null 2>&1 || need+=(isync)
# clamd (the tests run their own instance with the shared test signatures; never freshclam).
[ -x /usr/sbin/clamd ] || need+=(clamav-daemon)
# The web UI's browser tests drive Debian's chromium headless.
command -v chromium >/dev/null 2>&1 || need+=(chromium)
# The import test runs its own Dovecot on a loopback port with a temporary configuration.
[ -x /usr/sbin/dovecot ] || need+=(dovecot-imapd)
# The PostgreSQL backend's tests start their own server from Debian's binaries.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || need+=(postgresql)
/usr/bin/python3 -c 'import dkim' >/dev/null 2>&1 || need+=(python3-dkim)
# dkimpy's ARC sealing (arcsign, dkim.arc_sign) reads Authentication-Results with authres.
/usr/bin/python3 -c 'import authres' >/dev/null 2>&1 || need+=(python3-authres)
if ((${#need[@]})); then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  echo "installing test dependencies: ${need[*]}"
  $SUDO apt-get update -q >/dev/null || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${need[@]}" >/dev/null
fi
