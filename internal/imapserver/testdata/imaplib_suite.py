#!/usr/bin/python3
"""The client suite of client_test.go, run with Python's imaplib (an IMAP4rev1 client).

Usage: imaplib_suite.py HOST PORT TLSHOST TLSPORT USER PASSWORD MESSAGEDIR
MESSAGEDIR holds m1, m2, m3: the messages to append. Exits non-zero on the first failure.
"""
import imaplib
import re
import ssl
import sys
import time

host, port, tls_host, tls_port, user, password, msgdir = sys.argv[1:8]
messages = [open(f"{msgdir}/m{i}", "rb").read() for i in (1, 2, 3)]


def ok(result, step):
    typ, data = result
    if typ != "OK":
        sys.exit(f"{step}: {typ} {data}")
    return data


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")
    print("ok:", what)


ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
M = imaplib.IMAP4_SSL(tls_host, int(tls_port), ssl_context=ctx)

# 1
ok(M.login(user, password), "login")
caps = ok(M.capability(), "capability")[0].decode().upper().split()
for cap in ("IMAP4REV1", "IDLE", "UIDPLUS", "MOVE"):
    check(cap in caps, f"capability {cap}")

# 2
listed = ok(M.list('""', "*"), "list")
names = {}
for line in listed:
    m = re.match(rb'\((.*?)\) "/" "?([^"]*)"?$', line)
    names[m.group(2).decode()] = m.group(1).decode().split()
for name, use in (("INBOX", None), ("Sent", "\\Sent"), ("Drafts", "\\Drafts"),
                  ("Trash", "\\Trash"), ("Junk", "\\Junk"), ("Archive", "\\Archive")):
    check(name in names and (use is None or use in names[name]), f"LIST shows {name} {use or ''}")

# 3
ok(M.create("Suite/Sub"), "create")
ok(M.rename("Suite/Sub", "Suite/Renamed"), "rename")
listed = ok(M.list('""', "Suite/*"), "list")
check(len(listed) == 1 and listed[0].endswith(b"Suite/Renamed"), f"LIST after RENAME {listed}")
ok(M.delete("Suite/Renamed"), "delete")

# 4
for i, msg in enumerate(messages):
    flags = "(\\Seen)" if i == 0 else None
    date = imaplib.Time2Internaldate(time.mktime((2026, 1, 5 + i, 9, 0, 0, 0, 0, -1)))
    data = ok(M.append("INBOX", flags, date, msg), "append")
    check(re.match(rb"\[APPENDUID \d+ %d\]" % (i + 1), data[0]) is not None, f"APPENDUID {data}")

# 5
data = ok(M.select("INBOX"), "select")
check(data == [b"3"], f"SELECT: {data} messages")

# 6
for i, msg in enumerate(messages):
    data = ok(M.fetch(str(i + 1), "(UID FLAGS RFC822.SIZE BODY.PEEK[])"), "fetch")
    check(data[0][1] == msg, f"message {i+1} BODY[] byte-identical")
    check(b"RFC822.SIZE %d" % len(msg) in data[0][0], f"message {i+1} RFC822.SIZE")
data = ok(M.fetch("1:3", "(FLAGS)"), "fetch flags")
check(b"\\Seen" in data[0] and b"\\Seen" not in data[1], f"flags {data}")
data = ok(M.fetch("2", "(ENVELOPE BODYSTRUCTURE)"), "fetch envelope")
check(b'"=?UTF-8?Q?gr=C3=BC=C3=9Fe?="' in data[0] and b'"ALTERNATIVE"' in data[0], f"envelope {data}")

# 7
check(ok(M.search(None, "UNSEEN"), "search") == [b"2 3"], "SEARCH UNSEEN")
check(ok(M.uid("SEARCH", "SUBJECT", "THIRD"), "uid search") == [b"3"], "UID SEARCH SUBJECT")
check(ok(M.search(None, "BODY", '"plain TEXT"'), "search body") == [b"2"], "SEARCH BODY")

# 8
ok(M.store("3", "+FLAGS", "(\\Flagged)"), "store")
check(ok(M.fetch("3", "(FLAGS)"), "fetch") == [b"3 (FLAGS (\\Recent \\Flagged))"], "FLAGS after STORE")

# 9
data = ok(M.copy("1", "Archive"), "copy")
check(re.match(rb"\[COPYUID \d+ 1 1\]", data[0]) is not None, f"COPYUID {data}")
typ, data = M._simple_command("MOVE", "2", "Trash")
check(typ == "OK", f"MOVE {typ} {data}")
check(M.untagged_responses.pop("EXPUNGE", None) == [b"2"], "MOVE announced EXPUNGE 2")
for name in ("Archive", "Trash"):
    data = ok(M.status(name, "(MESSAGES UIDNEXT)"), "status")
    check(b"MESSAGES 1" in data[0] and b"UIDNEXT 2" in data[0], f"STATUS {name} {data}")

# 10
ok(M.store("1", "+FLAGS.SILENT", "(\\Deleted)"), "store deleted")
check(ok(M.expunge(), "expunge") == [b"1"], "EXPUNGE")
check(ok(M.select("INBOX", readonly=True), "examine") == [b"1"], "one message left")

# 11: IDLE (RFC 2177), by hand: imaplib of this Python has no idle().
tag = M._new_tag()
M.send(tag + b" IDLE\r\n")
check(M.readline().startswith(b"+"), "IDLE continuation")
O = imaplib.IMAP4(host, int(port))
ok(O.login(user, password), "login 2")
ok(O.append("INBOX", None, None, messages[2]), "append 2")
M.sock.settimeout(1.0)
check(M.readline() == b"* 2 EXISTS\r\n", "EXISTS during IDLE within a second")
check(M.readline().endswith(b" RECENT\r\n"), "RECENT with the EXISTS (IMAP4rev1)")
M.sock.settimeout(None)
M.send(b"DONE\r\n")
check(M.readline().startswith(tag + b" OK"), "IDLE ended by DONE")
O.logout()

# 12
check(M.logout()[0] == "BYE", "LOGOUT")
print("imaplib suite passed")
