package mailauth

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/testutil"
)

// crlf turns bare LF line ends into CRLF, as messages arrive over SMTP.
func crlf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// mailDKIMResolver reads Mail::DKIM's FAKE_DNS.dat: "name record" per line, with NXDOMAIN,
// ~~Query timed out~~ and ~~SERVFAIL~~ standing for those answers.
func mailDKIMResolver(t *testing.T, path string) *fakeDNS {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := newFakeDNS()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, rec, _ := strings.Cut(line, " ")
		name, rec = fqdnKey(name), strings.TrimSpace(rec)
		switch rec {
		case "NXDOMAIN":
		case "~~Query timed out~~", "~~SERVFAIL~~":
			d.fail[name] = timeoutError(name)
		case `""`:
			d.txt[name] = append(d.txt[name], "")
		default:
			d.txt[name] = append(d.txt[name], rec)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

// dkimVerdict reduces a message's DKIM results the way Mail::DKIM's verifier reports one
// result: pass if a signature passes, else fail if one fails, else invalid for broken
// signatures and keys, none without signatures.
func dkimVerdict(rs []DKIMResult) string {
	best := "none"
	for _, r := range rs {
		switch r.Status {
		case StatusPass:
			return "pass"
		case StatusFail:
			best = "fail"
		default:
			if best == "none" {
				best = "invalid"
			}
		}
	}
	return best
}

// The Mail::DKIM corpus dates from 2006-2010: many of its messages use pre-RFC drafts,
// DomainKeys, rsa-sha1 or 512-bit keys, which later RFCs rule out. These are the reasons.
const (
	// RFC 6376 §3.5: "v= Version (plain-text; REQUIRED). This tag defines the version of this
	// specification that applies to the signature record. It MUST have the value "1" for
	// implementations compliant with this version of DKIM." These signatures follow drafts
	// (no v=, or v=0.5), so they are permerror.
	noVersion = "signature from a pre-RFC draft: no v=1 (RFC 6376 §3.5)"
	// RFC 8301 §3.1: "rsa-sha1 MUST NOT be used for signing or verifying."
	sha1 = "rsa-sha1 signature (RFC 8301 §3.1: rsa-sha1 MUST NOT be used for signing or verifying)"
	// RFC 8301 §3.2: "Verifiers MUST NOT consider signatures using RSA keys of less than 1024
	// bits as valid signatures."
	shortKey = "512-bit RSA key (RFC 8301 §3.2: keys under 1024 bits are not valid)"
	// DomainKeys (RFC 4870) is Historic and was replaced by DKIM (RFC 4871, now RFC 6376);
	// a DomainKey-Signature field is not a DKIM signature, so these messages have dkim=none.
	domainKeys = "DomainKeys signature (RFC 4870, Historic; not DKIM)"
)

// mailDKIMExceptions lists the corpus files whose expected result conflicts with a later RFC:
// the result posthorn gives instead, and why.
var mailDKIMExceptions = map[string]struct{ got, why string }{
	"good_ietf00_1.txt":  {"invalid", noVersion},
	"good_ietf00_2.txt":  {"invalid", noVersion},
	"good_ietf00_3.txt":  {"invalid", noVersion},
	"good_ietf00_4.txt":  {"invalid", noVersion},
	"good_ietf00_5.txt":  {"invalid", noVersion},
	"mine_ietf01_1.txt":  {"invalid", noVersion},
	"mine_ietf01_2.txt":  {"invalid", noVersion},
	"mine_ietf01_3.txt":  {"invalid", noVersion},
	"mine_ietf01_4.txt":  {"invalid", noVersion},
	"mine_ietf05_1.txt":  {"invalid", noVersion},
	"good_ietf01_1.txt":  {"invalid", noVersion},
	"good_ietf01_2.txt":  {"invalid", noVersion},
	"good_rfc4871_3.txt": {"invalid", shortKey},
	"good_rfc4871_4.txt": {"invalid", sha1}, // i= in other case or quoted-printable , and rsa-sha1
	"good_1878523.txt":   {"invalid", shortKey},
	"good_83176.txt":     {"invalid", sha1},
	"multiple_1.txt":     {"invalid", noVersion},
	"multiple_2.txt":     {"invalid", noVersion},
	"good_qp_1.txt":      {"invalid", shortKey},
	"good_qp_2.txt":      {"invalid", sha1}, // i= in other case or quoted-printable , and rsa-sha1
	"good_qp_3.txt":      {"invalid", sha1}, // i= in other case or quoted-printable , and rsa-sha1
	"bad_ietf01_1.txt":   {"invalid", noVersion},
	"bad_ietf01_2.txt":   {"invalid", noVersion},
	"bad_ietf01_3.txt":   {"invalid", noVersion},
	"bad_1.txt":          {"invalid", noVersion},
	"bad_1878954.txt":    {"invalid", sha1},
	"good_dk_gmail.txt":  {"none", domainKeys}, // []
	"good_dk_yahoo.txt":  {"none", domainKeys}, // []
	"good_dk_1.txt":      {"none", domainKeys}, // []
	"good_dk_2.txt":      {"none", domainKeys}, // []
	"good_dk_3.txt":      {"none", domainKeys}, // []
	"good_dk_4.txt":      {"none", domainKeys}, // []
	"good_dk_5.txt":      {"none", domainKeys}, // []
	"good_dk_6.txt":      {"none", domainKeys}, // []
	"good_dk_7.txt":      {"none", domainKeys}, // []
	"dk_headers_1.txt":   {"none", domainKeys}, // []
	"dk_headers_2.txt":   {"none", domainKeys}, // []
	"bad_dk_1.txt":       {"none", domainKeys}, // []
	"bad_dk_2.txt":       {"none", domainKeys}, // []
	"bad_dk_3.txt":       {"none", domainKeys}, // []
	"bad_dk_4.txt":       {"none", domainKeys}, // []
	"bad_dk_5.txt":       {"none", domainKeys}, // []
	"dk_multiple_1.txt":  {"none", domainKeys}, // []
	"no_body_1.txt":      {"invalid", noVersion},
	"no_body_2.txt":      {"invalid", noVersion},
	"no_body_3.txt":      {"invalid", noVersion},
	"goodkey_1.txt":      {"invalid", shortKey},
	"goodkey_2.txt":      {"invalid", shortKey},
	"goodkey_3.txt":      {"invalid", shortKey},
	"goodkey_4.txt":      {"invalid", shortKey},
}

func TestDKIMMailDKIMCorpus(t *testing.T) {
	dir := testutil.SharedTestdata(t, "dkim/mail-dkim")
	v := &Verifier{Resolver: mailDKIMResolver(t, filepath.Join(dir, "FAKE_DNS.dat")), Hostname: "mx.posthorn.test"}
	expected, err := os.ReadFile(filepath.Join(dir, "expected.txt"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(expected)), "\n") {
		file, want, _ := strings.Cut(strings.TrimSpace(line), " ")
		n++
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, "corpus", file))
			if err != nil {
				t.Fatal(err)
			}
			msg := crlf(raw)
			fields, off, err := readHeader(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			rs := v.dkimResults(context.Background(), fields, newBodyHashes(bytes.NewReader(msg), off, int64(len(msg))))
			got := dkimVerdict(rs)
			if got == want {
				return
			}
			if exc, ok := mailDKIMExceptions[file]; ok && exc.got == got {
				t.Logf("listed exception: got %s, corpus wants %s: %s", got, want, exc.why)
				return
			}
			t.Errorf("got %s, want %s: %+v", got, want, rs)
		})
	}
	if n < 79 {
		t.Fatalf("only %d cases in expected.txt", n)
	}
}

// TestDKIMRFC8463 verifies the RFC 8463 Appendix A messages (Ed25519 and RSA signatures, simple
// and relaxed canonicalization): every signature must pass.
func TestDKIMRFC8463(t *testing.T) {
	dir := testutil.SharedTestdata(t, "dkim/rfc8463")
	zone, err := os.ReadFile(filepath.Join(dir, "dns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	d := newFakeDNS()
	for _, line := range strings.Split(string(zone), "\n") {
		if strings.HasPrefix(line, ";") || !strings.Contains(line, " IN TXT ") {
			continue
		}
		name, rec, _ := strings.Cut(line, " IN TXT ")
		d.txt[fqdnKey(name)] = append(d.txt[fqdnKey(name)], strings.Trim(strings.TrimSpace(rec), `"`))
	}
	v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test"}
	for _, file := range []string{"simple-simple.msg", "relaxed-relaxed.msg"} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(dir, file))
			if err != nil {
				t.Fatal(err)
			}
			msg := crlf(raw)
			fields, off, err := readHeader(bytes.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			rs := v.dkimResults(context.Background(), fields, newBodyHashes(bytes.NewReader(msg), off, int64(len(msg))))
			if len(rs) != 2 {
				t.Fatalf("got %d results, want 2", len(rs))
			}
			for _, r := range rs {
				if r.Status != StatusPass {
					t.Errorf("%s signature (s=%s): %s (%s), want pass", r.Algorithm, r.Selector, r.Status, r.Reason)
				}
			}
		})
	}
}
