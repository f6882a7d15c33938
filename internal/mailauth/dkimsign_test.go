package mailauth

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const dkimTestMessage = "From: Alice <alice@example.org>\r\n" +
	"To: bob@example.net\r\n" +
	"Subject: signed   with  both\r\n" +
	"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\n" +
	"Message-ID: <1@example.org>\r\n" +
	"\r\n" +
	"Hello Bob,  \r\n" +
	"this body is relaxed.\r\n\r\n\r\n"

// dkimpyVerify verifies every DKIM-Signature of msg with Debian's dkimpy (package
// python3-dkim), serving the TXT records from records instead of DNS, and returns one result
// per signature ("True" or "False").
func dkimpyVerify(t *testing.T, msg []byte, records map[string]string) []string {
	t.Helper()
	const script = `
import dkim, json, sys
records = json.loads(sys.argv[1])
msg = sys.stdin.buffer.read()
def dnsfunc(name, timeout=5):
    return records.get(name.decode().rstrip('.'), '').encode()
d = dkim.DKIM(msg)
n = msg.count(b'DKIM-Signature:')
def one(i):
    try:
        return d.verify(idx=i, dnsfunc=dnsfunc)
    except dkim.ValidationError:
        return False
print(' '.join(str(one(i)) for i in range(n)))
`
	rec, _ := json.Marshal(records)
	cmd := exec.Command("/usr/bin/python3", "-c", script, string(rec))
	cmd.Stdin = bytes.NewReader(msg)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("dkimpy (install python3-dkim, scripts/test-deps.sh): %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

func TestSignDKIMVerifiedByDkimpy(t *testing.T) {
	keys, err := GenerateDKIMKeys("example.org", time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if keys[0].Selector != "ph-rsa-202611" || keys[1].Selector != "ph-ed-202611" {
		t.Fatalf("selectors %s %s", keys[0].Selector, keys[1].Selector)
	}
	records := map[string]string{}
	for _, k := range keys {
		name, value, err := DKIMRecord(k)
		if err != nil {
			t.Fatal(err)
		}
		records[name] = value
	}
	sigs, err := SignDKIM(strings.NewReader(dkimTestMessage), SigningKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 || !strings.Contains(sigs[0], "a=rsa-sha256") || !strings.Contains(sigs[1], "a=ed25519-sha256") {
		t.Fatalf("signatures:\n%s", strings.Join(sigs, ""))
	}
	for _, s := range sigs {
		if !strings.Contains(s, "c=relaxed/relaxed") || !strings.Contains(strings.ToLower(s), "h=from:from:") {
			t.Errorf("signature not relaxed/relaxed with From oversigned:\n%s", s)
		}
	}
	signed := []byte(strings.Join(sigs, "") + dkimTestMessage)
	if got := dkimpyVerify(t, signed, records); strings.Join(got, " ") != "True True" {
		t.Fatalf("dkimpy verify = %v, want True True\n%s", got, signed)
	}
	// A second From added in transit breaks both (oversigning); so does a changed body.
	for _, bad := range [][]byte{
		[]byte(strings.Join(sigs, "") + "From: mallory@example.com\r\n" + dkimTestMessage),
		bytes.Replace(signed, []byte("Hello Bob"), []byte("Hello Eve"), 1),
	} {
		if got := dkimpyVerify(t, bad, records); strings.Join(got, " ") != "False False" {
			t.Errorf("dkimpy verify of a tampered message = %v, want False False", got)
		}
	}
}
