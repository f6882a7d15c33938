package mailauth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os/exec"
	"testing"
)

// dkimpySeal has Debian's dkimpy (python3-dkim, python3-authres) DKIM-sign a message as
// example.com with an RSA and an Ed25519 key, then ARC-seal it at two hops, as a mailing list
// (lists.example.org) and a forwarder (fwd.example.net) would, each after writing its own
// Authentication-Results.
const dkimpySeal = `
import dkim, json, sys
a = json.load(sys.stdin)
msg = a["msg"].encode()
rsa, ed = a["rsa"].encode(), a["ed"].encode()
msg = dkim.sign(msg, b"rsa", b"example.com", rsa, include_headers=[b"from", b"to", b"subject"]) + msg
msg = dkim.sign(msg, b"ed", b"example.com", ed, signature_algorithm=b"ed25519-sha256",
                include_headers=[b"from", b"to", b"subject"]) + msg
msg = b"Authentication-Results: lists.example.org; arc=none; dkim=pass header.d=example.com; dmarc=pass header.from=example.com\r\n" + msg
msg = b"".join(dkim.arc_sign(msg, b"rsa", b"lists.example.org", rsa, b"lists.example.org", timestamp=1764000000)) + msg
msg = b"Subject-Prefix: [list]\r\n" + msg
msg = b"Authentication-Results: fwd.example.net; arc=pass; dmarc=pass header.from=example.com\r\n" + msg
msg = b"".join(dkim.arc_sign(msg, b"rsa", b"fwd.example.net", rsa, b"fwd.example.net", timestamp=1764000100)) + msg
sys.stdout.write(msg.decode())
`

// TestDkimpyInterop verifies what an independent implementation signed and sealed: both DKIM
// signatures, the two-hop ARC chain, and DMARC through the aligned signatures.
func TestDkimpyInterop(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	in, _ := json.Marshal(map[string]string{
		"msg": testMessage("Alice <a@example.com>"),
		"rsa": string(pemKey),
		"ed":  base64.StdEncoding.EncodeToString(testKey.Seed()),
	})
	cmd := exec.Command("/usr/bin/python3", "-c", dkimpySeal)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	msg, err := cmd.Output()
	if err != nil {
		t.Fatalf("dkimpy (install python3-dkim and python3-authres, scripts/test-deps.sh): %v\n%s", err, stderr.String())
	}
	msg = crlf(msg)

	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	d := newFakeDNS()
	rsaRecord := []string{"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)}
	d.txt["rsa._domainkey.example.com"] = rsaRecord
	d.txt["rsa._domainkey.lists.example.org"] = rsaRecord
	d.txt["rsa._domainkey.fwd.example.net"] = rsaRecord
	publishKey(d, "ed", "example.com")
	d.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}

	res := v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg)))
	if len(res.DKIM) != 2 || res.DKIM[0].Status != StatusPass || res.DKIM[1].Status != StatusPass {
		t.Errorf("dkim: %+v, want two passes", res.DKIM)
	}
	if res.ARC.Status != StatusPass || res.ARC.Instances != 2 || res.ARC.Sealer != "fwd.example.net" || res.ARC.OldestPass != 0 {
		t.Errorf("arc: %+v, want pass with 2 instances sealed last by fwd.example.net", res.ARC)
	}
	if res.DMARC.Status != StatusPass {
		t.Errorf("dmarc: %+v", res.DMARC)
	}

	// The body changed after sealing: DKIM fails, and so does the chain (the newest AMS).
	bad := bytes.Replace(msg, []byte("Hello."), []byte("Hello!"), 1)
	res = v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(bad), int64(len(bad)))
	if res.DKIM[0].Status != StatusFail || res.ARC.Status != StatusFail {
		t.Errorf("tampered body: dkim %+v arc %+v", res.DKIM, res.ARC)
	}
	// What the first hop recorded changed: its seal, and the next one, fail.
	bad = bytes.Replace(msg, []byte("i=1; lists.example.org; arc=none;"), []byte("i=1; lists.example.org; arc=pass;"), 1)
	if bytes.Equal(bad, msg) {
		t.Fatalf("no ARC-Authentication-Results i=1 to change in\n%s", msg)
	}
	res = v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(bad), int64(len(bad)))
	if res.ARC.Status != StatusFail {
		t.Errorf("changed ARC-Authentication-Results: arc %+v, want fail", res.ARC)
	}
	t.Logf("changed ARC-Authentication-Results: %s", res.ARC.Reason)
}
