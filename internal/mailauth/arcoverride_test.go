package mailauth

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// A message from d1.example.org (DMARC p=reject) relayed by a list at example.org that broke
// the original authentication but sealed an ARC set saying dmarc=pass (the suite's
// cv_pass_i1_1). DMARC fails here; only a trusted sealer's chain overrides it.
func TestARCOverride(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		msgCase string
		policy  Policy
		arc     Status
	}{
		{"no trusted sealers", nil, "cv_pass_i1_1", PolicyReject, StatusPass},
		{"sealer not trusted", []string{"lists.example.net"}, "cv_pass_i1_1", PolicyReject, StatusPass},
		{"trusted sealer", []string{"example.org"}, "cv_pass_i1_1", PolicyNone, StatusPass},
		{"trusted parent domain", []string{"org"}, "cv_pass_i1_1", PolicyNone, StatusPass},
		{"trusted sealer, broken chain", []string{"example.org"}, "cv_fail_i1_ams_invalid", PolicyReject, StatusFail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msg, d := arcSuiteMessage(t, tc.msgCase)
			d.txt["_dmarc.d1.example.org"] = []string{"v=DMARC1; p=reject"}
			v := &Verifier{Resolver: d, Hostname: "mx.posthorn.test", TrustedARCSealers: tc.trusted}
			spf := SPFResult{Status: StatusFail, Identity: "mailfrom", Domain: "d1.example.org", MailFrom: "jqd@d1.example.org"}
			res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
			if res.DMARC.Status != StatusFail || res.ARC.Status != tc.arc || res.Disposition() != tc.policy {
				t.Fatalf("dmarc %s arc %s (%s) disposition %s, want fail %s %s", res.DMARC.Status, res.ARC.Status, res.ARC.Reason, res.Disposition(), tc.arc, tc.policy)
			}
			if res.DMARC.ARCOverride != (tc.policy == PolicyNone) {
				t.Errorf("ARCOverride = %v", res.DMARC.ARCOverride)
			}
			h := res.Header(v.Hostname)
			if res.DMARC.ARCOverride && !strings.Contains(h, "arc-override") {
				t.Errorf("header does not show the override:\n%s", h)
			}
		})
	}
}
