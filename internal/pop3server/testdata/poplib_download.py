#!/usr/bin/python3
"""Downloads a maildrop with Python's poplib, for client_test.go.

Usage: poplib_download.py HOST PORT USER PASSWORD OUTDIR [--delete]
Upgrades the connection with STLS (the test server's certificate is self-signed), logs in with
USER/PASS, checks that STAT, LIST and UIDL agree, and writes every message, as RETR returned it
and poplib unstuffed it, to OUTDIR/<unique-id>, with CRLF line ends; OUTDIR/LIST holds
"<unique-id> <size from LIST>" lines. With --delete it deletes every message before QUIT.
Exits non-zero on the first failure.
"""
import os
import poplib
import ssl
import sys

host, port, user, password, outdir = sys.argv[1:6]
delete = "--delete" in sys.argv[6:]

ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

pop = poplib.POP3(host, int(port), timeout=30)
caps = pop.capa()
for cap in ("STLS", "TOP", "UIDL", "PIPELINING", "RESP-CODES"):
    if cap not in caps:
        sys.exit(f"capability {cap} missing: {caps}")
if "USER" in caps:
    sys.exit(f"USER offered before STLS: {caps}")
pop.stls(ctx)
caps = pop.capa()
if "USER" not in caps or "STLS" in caps:
    sys.exit(f"capabilities after STLS: {caps}")
pop.user(user)
pop.pass_(password)
count, size = pop.stat()
_, listing, _ = pop.list()
_, uidls, _ = pop.uidl()
if len(listing) != count or len(uidls) != count:
    sys.exit(f"STAT says {count}, LIST has {len(listing)}, UIDL has {len(uidls)}")
sizes = {}
total = 0
for line in listing:
    num, octets = line.split()
    sizes[int(num)] = int(octets)
    total += int(octets)
if total != size:
    sys.exit(f"STAT size {size}, LIST sizes add up to {total}")
ids = {}
for line in uidls:
    num, uid = line.split()
    ids[int(num)] = uid.decode()
with open(os.path.join(outdir, "LIST"), "w") as manifest:
    for num in range(1, count + 1):
        _, lines, _ = pop.retr(num)
        with open(os.path.join(outdir, ids[num]), "wb") as f:
            f.write(b"".join(line + b"\r\n" for line in lines))
        manifest.write(f"{ids[num]} {sizes[num]}\n")
        if delete:
            pop.dele(num)
print(pop.quit().decode())
print(f"downloaded {count} messages, {size} octets")
