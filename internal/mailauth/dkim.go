package mailauth

import (
	"context"
	"io"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimResults verifies every DKIM-Signature (RFC 6376 §6, up to MaxDKIMSignatures) of the
// message, with keys looked up through the Verifier's resolver. Signatures with rsa-sha1 or RSA
// keys under 1024 bits are not valid (RFC 8301 §3.1, §3.2), and neither are signatures with an
// l= body length, which would let anyone append to a signed body (RFC 6376 §8.2). A message
// without signatures gives no results (dkim=none in the header).
func (v *Verifier) dkimResults(ctx context.Context, fields []headerField, msg io.ReaderAt, size int64) []DKIMResult {
	sigs := fieldsNamed(fields, "DKIM-Signature")
	if len(sigs) == 0 {
		return nil
	}
	if len(sigs) > v.maxDKIM() {
		sigs = sigs[:v.maxDKIM()]
	}
	results := make([]DKIMResult, len(sigs))
	for i, f := range sigs {
		tags, _, _ := parseTags(f.value())
		results[i] = DKIMResult{
			Domain:    strings.ToLower(stripFWS(tags["d"])),
			Selector:  stripFWS(tags["s"]),
			Algorithm: strings.ToLower(stripFWS(tags["a"])),
			HeaderB:   prefix(stripFWS(tags["b"]), 8),
		}
	}
	verifs, err := dkim.VerifyWithOptions(io.NewSectionReader(msg, 0, size), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			txt, err := v.Resolver.LookupTXT(ctx, name)
			return txt, netError(name, err)
		},
		MaxVerifications: v.maxDKIM(),
	})
	if len(verifs) == 0 && err != nil {
		for i := range results {
			results[i].Status = StatusTempError
			results[i].Reason = err.Error()
		}
		return results
	}
	now := v.now()
	for i := range results {
		if i >= len(verifs) || verifs[i] == nil {
			results[i].Status = StatusPermError
			continue
		}
		vf := verifs[i]
		results[i].Identifier = vf.Identifier
		switch {
		case vf.Err == nil && !vf.Expiration.IsZero() && now.After(vf.Expiration):
			results[i].Status = StatusPermError
			results[i].Reason = "signature has expired"
		case vf.Err == nil:
			results[i].Status = StatusPass
		case dkim.IsTempFail(vf.Err):
			results[i].Status = StatusTempError
		case dkim.IsPermFail(vf.Err):
			results[i].Status = StatusPermError
		default:
			results[i].Status = StatusFail
		}
		if vf.Err != nil {
			results[i].Reason = strings.TrimPrefix(vf.Err.Error(), "dkim: ")
		}
	}
	return results
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
