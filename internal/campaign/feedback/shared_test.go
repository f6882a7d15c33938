package feedback

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"posthorn/internal/testutil"
)

// TestSharedSamples reads the DSNs and feedback reports that other projects collected.
func TestSharedSamples(t *testing.T) {
	dir := testutil.SharedTestdata(t, "mime")
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		file string
		want []wantRcpt
	}{
		{"enmime/dsn/testdata/simple_dsn.raw", []wantRcpt{{"louisl@larry.slip.umd.edu", "failed", "4.0.0", SoftBounce}}},
		{"enmime/dsn/testdata/delayed_dsn.raw", []wantRcpt{{"thomas@de-montfort.ac.uk", "delayed", "4.0.0", NoBounce}}},
		{"enmime/dsn/testdata/multi_recipient_dsn.raw", []wantRcpt{
			{"arathib@vnet.ibm.com", "failed", "5.0.0", HardBounce},
			{"johnh@hpnjld.njd.hp.com", "delayed", "4.0.0", NoBounce},
			{"wsnell@sdcc13.ucsd.edu", "failed", "5.0.0", HardBounce},
		}},
		{"mimekit/UnitTests/TestData/messages/delivery-status2.txt", []wantRcpt{{"source@domain.com", "failed", "5.0.0", HardBounce}}},
		// No Status field; the diagnostic "500 (err.nosuchuser)" has a syntax-error code.
		{"mimekit/UnitTests/TestData/messages/delivery-status-no-blank-line.txt", []wantRcpt{{"newsletter-request@imusic.com", "failed", "", SoftBounce}}},
		{"mimekit/UnitTests/TestData/messages/delivery-status-multiple-blank-lines.txt", []wantRcpt{{"", "", "5.5.0", SoftBounce}}},
		{"cpython-email/msg_25.txt", []wantRcpt{{"scoffman@wellpartner.com", "failed", "5.4.6", SoftBounce}}},
		{"mail-parser/mail_malformed_2", []wantRcpt{{"abh@netpar.com.br", "failed", "4.2.2", SoftBounce}}},
		// Its delivery-status part is mangled (base64 inside a plain body): the text decides.
		{"mimekit/UnitTests/TestData/messages/bounce.txt", []wantRcpt{{"netec.test@netecgc.com", "failed", "5.1.1", HardBounce}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			d, err := ParseDSN(bytes.NewReader(read(tc.file)), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			checkRecipients(t, d, tc.want)
		})
	}

	d, err := ParseDSN(bytes.NewReader(read("cpython-email/msg_43.txt")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Recipients) != 25 {
		t.Errorf("msg_43: %d recipients, want 25", len(d.Recipients))
	}
	for _, r := range d.Recipients {
		if r.Status != (Status{5, 7, 1}) || r.Bounce != SoftBounce {
			t.Errorf("msg_43: %+v", r)
		}
	}
	if d, err := ParseDSN(bytes.NewReader(read("mail-parser/mail_malformed_2")), Limits{}); err == nil && d.Original == nil {
		t.Error("mail_malformed_2: the message/rfc822-headers part was not read")
	}

	rep, err := ParseARF(bytes.NewReader(read("mimekit/UnitTests/TestData/messages/feedback-report.txt")), Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.FeedbackType != "abuse" || rep.UserAgent != "SomeGenerator/1.0" || rep.OriginalMailFrom != "somespammer@example.net" ||
		len(rep.OriginalRcptTo) != 1 || rep.OriginalRcptTo[0] != "user@example.com" || rep.SourceIP.String() != "192.0.2.2" ||
		rep.ArrivalDate.IsZero() || rep.Message == nil || rep.Message.MessageID != "8787KJKJ3K4J3K4J3K4J3.mail@example.net" {
		t.Errorf("feedback-report.txt: %+v %+v", rep, rep.Message)
	}
}

// TestCorpusNeverFails runs every message of the shared MIME corpora through Parse: each is a
// report, or cleanly not one.
func TestCorpusNeverFails(t *testing.T) {
	dir := testutil.SharedTestdata(t, "mime")
	n := 0
	err := filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		_, err = Parse(bytes.NewReader(b), Limits{})
		if err != nil && !errors.Is(err, ErrNotDSN) && !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Errorf("only %d corpus files", n)
	}
}
