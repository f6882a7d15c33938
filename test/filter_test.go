package test

import (
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/testutil/clamdtest"
)

// TestVirusScanningEndToEnd: the real binary with [filter.clamd] pointing at Debian's clamd, and
// swaks as the sending MTA. The EICAR file, plain and zipped, is refused with 554 5.7.1 without
// naming the signature; a clean message is delivered; with clamd stopped the sender is told to
// retry with 451 4.7.1.
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
	if out, _ := send("clean.eml"); !strings.Contains(out, "<** 451 4.7.1 ") {
		t.Fatalf("clamd stopped: %s", out)
	}
	log := s.Log()
	if strings.Count(log, "result=virus ") != 2 || !strings.Contains(log, "Posthorn.Test.EICAR") || !strings.Contains(log, "result=virus-scan-unavailable") {
		t.Fatalf("mail log:\n%s", log)
	}
}
