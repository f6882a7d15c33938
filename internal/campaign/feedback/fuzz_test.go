package feedback

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func addSeeds(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("Content-Type: multipart/report; boundary=b\n\n--b\nContent-Type: message/delivery-status\n\nFinal-Recipient: x\n--b--"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/report; boundary=b\n\n--b\n--a--"))
	f.Add([]byte("Status: 5.1.1\n\n550 5.1.1 <a@b>"))
}

// small limits make the fuzzer reach the size checks.
var fuzzLimits = Limits{MaxMessage: 1 << 20, MaxPart: 2 << 10}

// FuzzParseDSN checks that no input panics ParseDSN and that what it returns is consistent.
func FuzzParseDSN(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDSN(bytes.NewReader(b), fuzzLimits)
		if err != nil {
			return
		}
		if len(d.Recipients) == 0 && !d.Standard {
			t.Fatal("a non-standard DSN without recipients")
		}
		for _, r := range d.Recipients {
			if r.Action == "failed" && r.Bounce == NoBounce {
				t.Fatalf("a failed recipient that is no bounce: %+v", r)
			}
		}
	})
}

// FuzzParseARF checks that no input panics ParseARF.
func FuzzParseARF(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseARF(bytes.NewReader(b), fuzzLimits)
		if err == nil && rep.FeedbackType == "" {
			t.Fatal("a report without a feedback type")
		}
		Parse(bytes.NewReader(b), fuzzLimits)
	})
}
