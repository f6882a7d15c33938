package mailauth_test

import (
	"bytes"
	"context"
	"testing"

	"posthorn/internal/filter"
	"posthorn/internal/filter/filtertest"
	"posthorn/internal/mailauth"
)

// BenchmarkMessageIngest verifies the ingest benchmark's message (RSA and Ed25519 signatures,
// relaxed canonicalization, a PDF attachment) at 4 KiB and 100 KiB, with the in-memory
// resolver of filtertest: the CPU cost of DKIM, ARC and DMARC per message.
func BenchmarkMessageIngest(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"4KiB", 4 << 10}, {"100KiB", 100 << 10}} {
		b.Run("size="+size.name, func(b *testing.B) {
			f, msg := filtertest.New(b, "", size.bytes)
			v := f.Auth.(filter.MailAuth).Verifier
			spf := mailauth.SPFResult{Status: mailauth.StatusPass, Identity: "mailfrom", Domain: "remote.example", MailFrom: filtertest.Sender}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				res := v.Message(context.Background(), spf, bytes.NewReader(msg), int64(len(msg)))
				if len(res.DKIM) != 2 || res.DKIM[0].Status != mailauth.StatusPass || res.DKIM[1].Status != mailauth.StatusPass {
					b.Fatalf("%+v", res.DKIM)
				}
			}
		})
	}
}
