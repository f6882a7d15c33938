package mailauth

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// dkimResults verifies every DKIM-Signature (RFC 6376 §6, up to MaxDKIMSignatures) of the
// message, with keys looked up through the Verifier's resolver. Signatures with rsa-sha1 or RSA
// keys under 1024 bits are not valid (RFC 8301 §3.1, §3.2), and neither are signatures with an
// l= body length, which would let anyone append to a signed body (RFC 6376 §8.2). A message
// without signatures gives no results (dkim=none in the header).
func (v *Verifier) dkimResults(ctx context.Context, fields []headerField, msg io.ReaderAt, size, bodyOffset int64) []DKIMResult {
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
	var r io.Reader = io.NewSectionReader(msg, 0, size)
	if !endsHeader(msg, bodyOffset) {
		// A message that is all header: the library needs the empty line that ends it.
		r = io.MultiReader(r, strings.NewReader("\r\n"))
	}
	verifs, err := dkim.VerifyWithOptions(r, &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			txt, err := v.Resolver.LookupTXT(ctx, name)
			return txt, netError(name, err)
		},
		MaxVerifications: v.maxDKIM(),
	})
	if len(verifs) == 0 && err != nil {
		// The message could not be read as a header and body: no signature can verify.
		for i := range results {
			results[i].Status = StatusPermError
			results[i].Reason = strings.TrimPrefix(err.Error(), "dkim: ")
		}
		return results
	}
	if len(verifs) != len(results) {
		// The library saw a different set of signature fields than readHeader: report what it
		// verified, without the tags only our parse knows.
		results = make([]DKIMResult, len(verifs))
		for i, vf := range verifs {
			results[i] = DKIMResult{Domain: strings.ToLower(vf.Domain)}
		}
	}
	now := v.now()
	keys := map[string]*publicKey{}
	bodies := map[string][]byte{}
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
		if vf.Err != nil && results[i].Reason == "domain mismatch" && len(verifs) == len(sigs) {
			results[i] = v.dkimFallback(ctx, fields, sigs[i], results[i], msg, bodyOffset, size, keys, bodies)
		}
	}
	return results
}

// dkimFallback verifies a signature that the DKIM library refused for "domain mismatch": it
// compares i= with d= case-sensitively and without decoding i='s quoted-printable, where
// RFC 6376 §3.5 wants domain names compared without regard to case and i= is
// dkim-quoted-printable. Every other check of RFC 6376 §6.1 is repeated here; the cryptography
// is verifySignature's, shared with ARC.
func (v *Verifier) dkimFallback(ctx context.Context, fields []headerField, f headerField, res DKIMResult, msg io.ReaderAt, bodyOffset, size int64, keys map[string]*publicKey, bodies map[string][]byte) DKIMResult {
	tags, _, err := parseTags(f.value())
	if err != nil {
		return res
	}
	d := strings.ToLower(stripFWS(tags["d"]))
	auid := dkimQPDecode(stripFWS(tags["i"]))
	at := strings.LastIndexByte(auid, '@')
	auidDomain := strings.ToLower(auid[at+1:])
	res.Identifier = auid
	perm := func(reason string) DKIMResult {
		res.Status, res.Reason = StatusPermError, reason
		return res
	}
	switch {
	case at < 0:
		return perm("i= is not an address")
	case auidDomain != d && !strings.HasSuffix(auidDomain, "."+d):
		return perm("i= is not within d=")
	case !containsFold(strings.Split(stripFWS(tags["h"]), ":"), "from"):
		return perm("From field not signed")
	}
	if _, ok := tags["l"]; ok {
		res.Status, res.Reason = StatusFail, "message contains an insecure body length tag"
		return res
	}
	if x, ok := tags["x"]; ok {
		exp, err := strconv.ParseInt(stripFWS(x), 10, 64)
		if err != nil || v.now().Unix() > exp {
			return perm("signature has expired")
		}
	}
	key, err := v.cachedKey(ctx, tags, keys)
	switch {
	case errors.Is(err, errKeyTemp):
		res.Status, res.Reason = StatusTempError, err.Error()
		return res
	case err != nil:
		return perm(err.Error())
	case key.services != nil && !containsFold(key.services, "email") && !containsFold(key.services, "*"):
		return perm("inappropriate service")
	case key.strict && auidDomain != d:
		return perm("key requires i= in d= exactly (t=s)")
	}
	err = v.verifySignature(ctx, fields, f.raw, tags, msg, bodyOffset, size, keys, bodies)
	switch {
	case err == nil:
		res.Status, res.Reason = StatusPass, ""
	case errors.Is(err, errKeyTemp):
		res.Status, res.Reason = StatusTempError, err.Error()
	case errors.Is(err, errBadSignature):
		res.Status, res.Reason = StatusFail, err.Error()
	default:
		return perm(err.Error())
	}
	return res
}

// dkimQPDecode decodes dkim-quoted-printable (RFC 6376 §2.11): =XX is the byte XX.
func dkimQPDecode(s string) string {
	if !strings.Contains(s, "=") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '=' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// endsHeader reports whether the header section, n bytes long, ends with an empty line.
func endsHeader(msg io.ReaderAt, n int64) bool {
	if n < 1 {
		return false
	}
	tail := make([]byte, 4)
	start := max(n-4, 0)
	k, _ := msg.ReadAt(tail[:n-start], start)
	t := string(tail[:k])
	return t == "\n" || t == "\r\n" || strings.HasSuffix(t, "\n\n") || strings.HasSuffix(t, "\n\r\n")
}

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
