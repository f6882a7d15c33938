package mailauth

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"posthorn/internal/testutil"
)

// The ValiMail ARC validation suite (written for the last draft before RFC 8617). Each case's
// message is validated with the scenario's TXT records; cv is the expected chain status.

type arcCase struct {
	Spec        string `yaml:"spec"`
	Description string `yaml:"description"`
	Message     string `yaml:"message"`
	CV          string `yaml:"cv"`
}

// arcSuiteExceptions lists the cases where the suite conflicts with RFC 8617; posthorn follows
// the RFC. The suite's empty cv ("") for three messages means the draft's validator gave no
// status at all.
var arcSuiteExceptions = map[string]struct{ got, why string }{
	// The AMS has no c= tag and was signed with relaxed header canonicalization.
	"ams_fields_c_na": {"fail", rfc8617AMS + ` and RFC 6376 §3.5: "c= Message canonicalization (plain-text; OPTIONAL, default is ` +
		`"simple/simple")"; ` +
		`the message was signed with relaxed headers, so the signature does not verify`},
	// The AMS has "h=;" and "h=from:to::date:...".
	"ams_fields_h_empty":   {"fail", rfc8617AMS + rfc6376Syntax},
	"ams_fields_h_mis_hdr": {"fail", rfc8617AMS + rfc6376Syntax},
	// The newest ARC-Seal (i=1) says cv=fail.
	"cv_fail_i1_as_cv_fail": {"fail", rfc8617Step2},
	// The newest ARC-Seal (i=2) says cv=fail.
	"cv_fail_i2_as2_fail": {"fail", rfc8617Step2},
	// ARC-Seal i=1 says cv=fail, the newest one cv=pass.
	"cv_fail_i2_as1_fail": {"fail", rfc8617Step3},
}

const (
	rfc8617AMS = `RFC 8617 §4.1.2: "The AMS header field has the same syntax and semantics as the ` +
		`DKIM-Signature field [RFC6376]" (except the name, v= and i=)`
	rfc6376Syntax = `; RFC 6376 §3.5: sig-h-tag = %x68 [FWS] "=" [FWS] hdr-name *( [FWS] ":" [FWS] ` +
		`hdr-name ), so every name is non-empty, and §6.1.1: "any inconsistency or unexpected ` +
		`values MUST cause the header field to be completely ignored and the Verifier to return ` +
		`PERMFAIL (signature syntax error)"`
	rfc8617Step2 = `RFC 8617 §5.2 step 2: "If the Chain Validation Status of the highest instance value ` +
		`ARC Set is "fail", then the Chain Validation status is "fail" and the algorithm stops here." ` +
		`(the suite expects no status)`
	rfc8617Step3 = `RFC 8617 §5.2 step 3: "The "cv" value for all ARC-Seal header fields must be ` +
		`non-failing. For instance values > 1, the value must be "pass". For instance value = 1, the ` +
		`value must be "none". ... If any of these conditions are not met, the Chain Validation ` +
		`Status is "fail" and the algorithm stops here." (the suite expects no status)`
)

type arcScenario struct {
	records map[string]string
	names   []string
	cases   []arcCase
}

// loadARCSuite reads the validation suite. It is decoded by hand: the suite repeats some test
// names within a scenario, which a Go map would refuse; every occurrence is kept.
func loadARCSuite(t testing.TB) []arcScenario {
	f, err := os.Open(filepath.Join(testutil.SharedTestdata(t, "arc"), "arc-draft-validation-tests.yml"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := yaml.NewDecoder(f)
	var scenarios []arcScenario
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		root := doc.Content[0]
		sc := arcScenario{records: map[string]string{}}
		for i := 0; i+1 < len(root.Content); i += 2 {
			switch root.Content[i].Value {
			case "tests":
				tests := root.Content[i+1]
				for j := 0; j+1 < len(tests.Content); j += 2 {
					var tc arcCase
					if err := tests.Content[j+1].Decode(&tc); err != nil {
						t.Fatal(err)
					}
					sc.names = append(sc.names, tests.Content[j].Value)
					sc.cases = append(sc.cases, tc)
				}
			case "txt-records":
				if err := root.Content[i+1].Decode(&sc.records); err != nil {
					t.Fatal(err)
				}
			}
		}
		scenarios = append(scenarios, sc)
	}
	return scenarios
}

func (sc arcScenario) resolver() *fakeDNS {
	d := newFakeDNS()
	for name, rec := range sc.records {
		d.txt[fqdnKey(name)] = []string{rec}
	}
	return d
}

func TestARCValidationSuite(t *testing.T) {
	total := 0
	for _, sc := range loadARCSuite(t) {
		v := &Verifier{Resolver: sc.resolver(), Hostname: "mx.posthorn.test"}
		for i, name := range sc.names {
			tc := sc.cases[i]
			total++
			t.Run(name, func(t *testing.T) {
				msg := crlf([]byte(tc.Message))
				fields, off, err := readHeader(bytes.NewReader(msg))
				if err != nil {
					t.Fatal(err)
				}
				res := v.arcResult(context.Background(), fields, newBodyHashes(bytes.NewReader(msg), off, int64(len(msg))))
				got, want := string(res.Status), strings.ToLower(strings.TrimSpace(tc.CV))
				if got == want {
					return
				}
				if exc, ok := arcSuiteExceptions[name]; ok && exc.got == got {
					t.Logf("listed exception: got %q, suite wants %q: %s", got, want, exc.why)
					return
				}
				t.Errorf("%s (spec %s): got %q (%s), want %q", tc.Description, tc.Spec, got, res.Reason, want)
			})
		}
	}
	t.Logf("%d cases", total)
	// 171 distinct names; four are repeated with different messages.
	if total != 175 {
		t.Errorf("read %d cases, the suite has 175", total)
	}
}

// arcSuiteMessage returns the message of a suite case and the scenario's resolver.
func arcSuiteMessage(t testing.TB, name string) ([]byte, *fakeDNS) {
	for _, sc := range loadARCSuite(t) {
		for i, n := range sc.names {
			if n == name {
				return crlf([]byte(sc.cases[i].Message)), sc.resolver()
			}
		}
	}
	t.Fatalf("no case %s in the ARC suite", name)
	return nil, nil
}
