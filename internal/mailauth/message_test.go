package mailauth

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// TestMessageDNSFailures: every DNS failure gives a temperror result, never a pass, a fail or
// a crash.
func TestMessageDNSFailures(t *testing.T) {
	d := newFakeDNS()
	publishKey(d, "sel", "example.com")
	msg := sign(t, testMessage("a@example.com"), "example.com")
	d.fail["sel._domainkey.example.com"] = timeoutError("sel._domainkey.example.com")
	d.fail["_dmarc.example.com"] = timeoutError("_dmarc.example.com")
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	res := v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg)))
	if len(res.DKIM) != 1 || res.DKIM[0].Status != StatusTempError {
		t.Errorf("dkim: %+v, want one temperror", res.DKIM)
	}
	if res.DMARC.Status != StatusTempError || res.Disposition() != PolicyNone {
		t.Errorf("dmarc: %+v, want temperror and no policy", res.DMARC)
	}

	// The DMARC record is there, but the aligned DKIM key is not reachable: temperror, so
	// the message can be retried rather than rejected.
	delete(d.fail, "_dmarc.example.com")
	d.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	res = v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(msg), int64(len(msg)))
	if res.DMARC.Status != StatusTempError || res.Disposition() != PolicyNone {
		t.Errorf("dmarc with unreachable key: %+v, want temperror", res.DMARC)
	}

	// SPF: a timeout on the policy lookup.
	d.fail["example.net"] = timeoutError("example.net")
	spf := v.SPF(context.Background(), []byte{192, 0, 2, 1}, "client.example", "a@example.net")
	if spf.Status != StatusTempError {
		t.Errorf("spf: %+v, want temperror", spf)
	}

	// ARC: the sealer's key times out.
	arcMsg, ad := arcSuiteMessage(t, "cv_pass_i1_1")
	ad.fail["dummy._domainkey.example.org"] = timeoutError("dummy._domainkey.example.org")
	av := &Verifier{Resolver: ad, Hostname: "mx.posthorn.test"}
	res = av.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(arcMsg), int64(len(arcMsg)))
	if res.ARC.Status != StatusTempError {
		t.Errorf("arc: %+v, want temperror", res.ARC)
	}
}

// TestMessagePass: a signed message from an aligned sender passes everything and the header
// says so.
func TestMessagePass(t *testing.T) {
	d := newFakeDNS()
	publishKey(d, "sel", "example.com")
	d.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	msg := sign(t, testMessage("Alice <a@example.com>"), "example.com")
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	spf := SPFResult{Status: StatusPass, Identity: "mailfrom", Domain: "example.com", MailFrom: "a@example.com"}
	res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
	h := res.Header(v.Hostname)
	for _, want := range []string{"spf=pass smtp.mailfrom=a@example.com", "dkim=pass header.d=example.com", "arc=none", "dmarc=pass (p=reject) header.from=example.com"} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	if res.Disposition() != PolicyNone {
		t.Errorf("disposition %s", res.Disposition())
	}

	// One changed body byte breaks the signature, and DMARC then fails.
	bad := bytes.Replace(msg, []byte("Hello."), []byte("Hellp."), 1)
	res = v.Message(context.Background(), SPFResult{Status: StatusNone}, bytes.NewReader(bad), int64(len(bad)))
	if res.DKIM[0].Status != StatusFail || res.Disposition() != PolicyReject {
		t.Errorf("tampered: dkim %+v disposition %s", res.DKIM, res.Disposition())
	}
}

// BenchmarkMessage verifies a 20 KiB DKIM-signed message (DKIM, ARC, DMARC) with a fake
// resolver, for an RSA-2048 and an Ed25519 signature.
func BenchmarkMessage(b *testing.B) {
	body := strings.Repeat("The quick brown fox jumps over the lazy dog, again and again.\r\n", 20*1024/64)
	raw := "From: Alice <a@example.com>\r\nTo: bob@posthorn.test\r\nSubject: benchmark\r\n" +
		"Date: Wed, 25 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench@example.com>\r\n\r\n" + body
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		b.Fatal(err)
	}
	d := newFakeDNS()
	publishKey(d, "ed", "example.com")
	d.txt["rsa._domainkey.example.com"] = []string{"v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)}
	d.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	spf := SPFResult{Status: StatusPass, Identity: "mailfrom", Domain: "example.com", MailFrom: "a@example.com"}
	for _, k := range []struct {
		name     string
		selector string
		signer   crypto.Signer
	}{{"rsa2048", "rsa", rsaKey}, {"ed25519", "ed", testKey}} {
		var out bytes.Buffer
		err := dkim.Sign(&out, strings.NewReader(raw), &dkim.SignOptions{
			Domain: "example.com", Selector: k.selector, Signer: k.signer,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed, BodyCanonicalization: dkim.CanonicalizationRelaxed,
		})
		if err != nil {
			b.Fatal(err)
		}
		msg := out.Bytes()
		b.Run(fmt.Sprintf("%s-%dKiB", k.name, len(msg)/1024), func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
				if res.DMARC.Status != StatusPass || res.DKIM[0].Status != StatusPass {
					b.Fatalf("%+v", res)
				}
			}
		})
	}
}
