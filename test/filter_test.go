package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/testutil"
	"posthorn/internal/testutil/clamdtest"
	"posthorn/internal/testutil/dnstest"
)

// TestVirusScanningEndToEnd: the real binary with [filter.clamd] pointing at Debian's clamd, and
// swaks as the sending MTA. The EICAR file, plain and zipped, is refused with 554 5.7.1 without
// naming the signature; a clean message is delivered; with clamd stopped the sender of a message
// with an attachment is told to retry with 451 4.7.1, and a text-only message needs no scan.
func TestVirusScanningEndToEnd(t *testing.T) {
	clamd := clamdtest.Start(t)
	s := NewServer(t, "[filter.clamd]\naddress = \""+clamd.Address+"\"\ntimeout_seconds = 5\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")

	send := func(file string) (string, int) {
		return swaks(t, s, "--from", "a@remote.example", "--to", "alice@example.org", "--data", "@"+filepath.Join(clamd.Samples, file))
	}
	for _, file := range []string{"eicar-attachment.eml", "eicar-zip-attachment.eml"} {
		out, code := send(file)
		if code == 0 || !strings.Contains(out, "<** 554 5.7.1 ") || strings.Contains(out, "EICAR") {
			t.Fatalf("%s: swaks exit %d\n%s", file, code, out)
		}
	}
	if out, code := send("clean.eml"); code != 0 {
		t.Fatalf("clean message: swaks exit %d\n%s", code, out)
	}
	clamd.Stop()
	// Only a message with a part that can carry malware goes to clamd ([filter.clamd] scan =
	// "attachments"): a text-only one is delivered without it.
	if out, code := send("clean.eml"); code != 0 {
		t.Fatalf("clamd stopped, text-only message: swaks exit %d\n%s", code, out)
	}
	withPDF := filepath.Join(t.TempDir(), "pdf.eml")
	pdf := "From: a@remote.example\r\nTo: alice@example.org\r\nSubject: report\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nattached\r\n" +
		"--b\r\nContent-Type: application/pdf; name=report.pdf\r\nContent-Disposition: attachment; filename=report.pdf\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJSBoZWxsbwo=\r\n--b--\r\n"
	if err := os.WriteFile(withPDF, []byte(pdf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _ := swaks(t, s, "--from", "a@remote.example", "--to", "alice@example.org", "--data", "@"+withPDF); !strings.Contains(out, "<** 451 4.7.1 ") {
		t.Fatalf("clamd stopped, message with an attachment: %s", out)
	}
	log := s.WaitLog("the virus-scan-unavailable record", func(log string) bool {
		return strings.Contains(log, "result=virus-scan-unavailable")
	})
	if strings.Count(log, "result=virus ") != 2 || !strings.Contains(log, "Posthorn.Test.EICAR") {
		t.Fatalf("mail log:\n%s", log)
	}
}

// TestDMARCEndToEnd: the real binary resolving through a DNS server of the test's own, swaks as
// the sending MTA and curl as the IMAP client. A domain with p=reject that did not send the
// message is refused with 550 5.7.1; one with p=quarantine lands in Junk, with our
// Authentication-Results on top.
func TestDMARCEndToEnd(t *testing.T) {
	curl := requireTool(t, "curl")
	dnsSrv := dnstest.Start(t, map[string][]string{
		"bank.example.":        {`bank.example. 300 IN TXT "v=spf1 -all"`},
		"_dmarc.bank.example.": {`_dmarc.bank.example. 300 IN TXT "v=DMARC1; p=reject"`},
		"shop.example.":        {`shop.example. 300 IN TXT "v=spf1 -all"`},
		"_dmarc.shop.example.": {`_dmarc.shop.example. 300 IN TXT "v=DMARC1; p=quarantine"`},
	})
	s := NewServer(t, "[dns]\nresolver = \""+dnsSrv.Addr+"\"\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")

	out, code := swaks(t, s, "--from", "ceo@bank.example", "--to", "alice@example.org", "--header", "From: ceo@bank.example")
	if code == 0 || !strings.Contains(out, "<** 550 5.7.1 ") {
		t.Fatalf("p=reject: swaks exit %d\n%s", code, out)
	}
	if out, code := swaks(t, s, "--from", "deals@shop.example", "--to", "alice@example.org", "--header", "From: deals@shop.example", "--header", "Subject: sale"); code != 0 {
		t.Fatalf("p=quarantine: swaks exit %d\n%s", code, out)
	}
	fetched, err := exec.Command(curl, "-sS", "--max-time", "10", "--user", "alice@example.org:correct horse battery",
		"imap://"+s.IMAP+"/Junk;UID=1").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(fetched), "Authentication-Results: mx.test.example;") ||
		!strings.Contains(string(fetched), "dmarc=fail") || !strings.Contains(string(fetched), "Subject: sale") {
		t.Fatalf("Junk UID 1 (%v):\n%s", err, fetched)
	}
	s.WaitLog("the dmarc-reject and junk records", func(log string) bool {
		return strings.Contains(log, "result=dmarc-reject") && strings.Contains(log, "result=junk")
	})
}

// TestSpamToJunkEndToEnd: the built-in classifier over the server's own model. The GTUBE test
// message goes to Junk; an ordinary message to the INBOX.
func TestSpamToJunkEndToEnd(t *testing.T) {
	curl := requireTool(t, "curl")
	s := NewServer(t, "")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("correct horse battery\n", "user", "add", "alice@example.org", "--password-stdin")
	gtube := filepath.Join(testutil.SharedTestdata(t, "spam"), "sample-spam.txt")
	if out, code := swaks(t, s, "--from", "a@remote.example", "--to", "alice@example.org", "--data", "@"+gtube); code != 0 {
		t.Fatalf("GTUBE: swaks exit %d\n%s", code, out)
	}
	if out, code := swaks(t, s, "--from", "a@remote.example", "--to", "alice@example.org", "--header", "Subject: lunch"); code != 0 {
		t.Fatalf("ham: swaks exit %d\n%s", code, out)
	}
	fetch := func(url string) string {
		out, err := exec.Command(curl, "-sS", "--max-time", "10", "--user", "alice@example.org:correct horse battery", url).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s", url, err, out)
		}
		return string(out)
	}
	if junk := fetch("imap://" + s.IMAP + "/Junk;UID=1"); !strings.Contains(junk, "XJS*C4JDBQADN1") {
		t.Fatalf("Junk UID 1:\n%s", junk)
	}
	if inbox := fetch("imap://" + s.IMAP + "/INBOX;UID=1"); !strings.Contains(inbox, "Subject: lunch") {
		t.Fatalf("INBOX UID 1:\n%s", inbox)
	}
	s.WaitLog("a junk record with its spam score", func(log string) bool {
		return strings.Contains(log, "result=junk") && strings.Contains(log, "reasons=spam-score(")
	})
}
