// Package dkimpy verifies DKIM signatures with Debian's dkimpy (package python3-dkim, installed
// by scripts/test-deps.sh), an implementation written independently of posthorn's and of
// go-msgauth's, with the public keys served from a map instead of DNS.
package dkimpy

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

const script = `
import dkim, json, sys
records = json.loads(sys.argv[1])
msg = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    return records.get(name.decode().rstrip('.'), '').encode()
d = dkim.DKIM(msg)
res = []
for i in range(msg.count(b'DKIM-Signature:')):
    try:
        res.append(str(d.verify(idx=i, dnsfunc=dnsfunc)))
    except dkim.ValidationError as e:
        res.append('False')
print(' '.join(res))
`

// Verify checks every DKIM-Signature of msg, records mapping "selector._domainkey.domain" to
// the TXT value, and returns "True" or "False" per signature, separated by spaces. A missing
// dkimpy fails the test.
func Verify(t testing.TB, msg []byte, records map[string]string) string {
	t.Helper()
	rec, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "-c", script, string(rec))
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dkimpy (install python3-dkim: scripts/test-deps.sh): %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
