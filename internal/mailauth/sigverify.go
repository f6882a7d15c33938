package mailauth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// verifySignature checks a DKIM-style message signature (RFC 6376 §6.1.3): the body hash of
// the canonical body (bh=, with c= and l=), then the signature (b=) over the fields named in h=
// and the signature field itself with b= emptied. It serves ARC-Message-Signature fields and the
// ARC-Message-Signature fields (RFC 8617 §4.1.2); DKIM-Signature fields, whose rules differ in
// their details, are verified in dkim.go with the same body hashes and signedHeaderHash. body
// holds the message's body hashes, keys caches the keys by selector and domain.
func (v *Verifier) verifySignature(ctx context.Context, fields []headerField, raw []byte, tags map[string]string, body *bodyHashes, keys map[string]*publicKey) error {
	for _, t := range []string{"a", "b", "bh", "d", "h", "s"} {
		if _, ok := tags[t]; !ok {
			return fmt.Errorf("missing %s= tag", t)
		}
	}
	a := strings.ToLower(stripFWS(tags["a"]))
	c, hasC := tags["c"]
	if hasC && stripFWS(c) == "" {
		return errors.New("empty c=")
	}
	headerCanon, bodyCanon, err := parseCanon(c)
	if err != nil {
		return err
	}
	names := strings.Split(tags["h"], ":")
	for i, n := range names {
		names[i] = strings.TrimSpace(n)
		if names[i] == "" {
			return errors.New("empty name in h=")
		}
	}
	limit := int64(-1)
	if l, ok := tags["l"]; ok {
		if limit, err = strconv.ParseInt(stripFWS(l), 10, 64); err != nil || limit < 0 {
			return fmt.Errorf("invalid l=%q", l)
		}
	}
	if t, ok := tags["t"]; ok {
		if _, err := strconv.ParseUint(stripFWS(t), 10, 64); err != nil {
			return fmt.Errorf("invalid t=%q", t)
		}
	}
	wantBH, err := base64.StdEncoding.DecodeString(stripFWS(tags["bh"]))
	if err != nil || len(wantBH) == 0 {
		return errors.New("invalid bh=")
	}
	sig, err := base64.StdEncoding.DecodeString(stripFWS(tags["b"]))
	if err != nil || len(sig) == 0 {
		return errors.New("invalid b=")
	}
	if a != "rsa-sha256" && a != "ed25519-sha256" {
		return fmt.Errorf("unsupported algorithm %q", a) // RFC 8301 §3.1 excludes rsa-sha1.
	}

	bh, err := body.hash(bodyForm{relaxed: bodyCanon == "relaxed", limit: limit})
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(bh, wantBH) != 1 {
		return fmt.Errorf("body hash does not match: %w", errBadSignature)
	}

	key, err := v.cachedKey(ctx, tags, keys)
	if err != nil {
		return err
	}
	if err := key.verify(a, signedHeaderHash(fields, raw, names, headerCanon == "relaxed"), sig); err != nil {
		return fmt.Errorf("%w: %v", errBadSignature, err)
	}
	return nil
}

// signedHeaderHash is the SHA-256 of what a DKIM-style signature signs (RFC 6376 §3.7): the
// fields named in h=, canonicalized, then the signature field itself (raw) with its b= value
// emptied and without its final line break.
func signedHeaderHash(fields []headerField, raw []byte, names []string, relaxed bool) []byte {
	h := sha256.New()
	canon := canonHeaderSimple
	if relaxed {
		canon = canonHeaderRelaxed
	}
	used := make([]bool, len(fields))
	for _, name := range names {
		// RFC 6376 §5.4.2: instances of a repeated field are signed from the bottom up; a name
		// with no unused instance left contributes nothing.
		for i := len(fields) - 1; i >= 0; i-- {
			if !used[i] && strings.EqualFold(fields[i].name, name) {
				used[i] = true
				h.Write(canon(fields[i].raw))
				break
			}
		}
	}
	h.Write(trimCRLF(canon(withoutSignature(raw))))
	return h.Sum(nil)
}

// errBadSignature marks a signature that is well-formed but does not match the message: a
// fail result, where other errors are permerror.
var errBadSignature = errors.New("signature does not verify")
