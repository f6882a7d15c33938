package mailauth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxARCInstances is the largest instance number (RFC 8617 §4.2.1: "i" is 1 to 50).
const maxARCInstances = 50

// arcSet is one ARC set (RFC 8617 §4.1): the three fields of one instance.
type arcSet struct {
	results, sig, seal *headerField
	sigTags, sealTags  map[string]string
}

// arcResult validates the ARC chain (RFC 8617 §5.2). The checks, in order: the sets are
// complete and numbered 1..N without duplicates (§4.2.1, §5.1.2); the newest seal does not say
// cv=fail; cv= is none for instance 1 and pass for the others (§5.1.2); the newest
// ARC-Message-Signature validates; then every ARC-Seal validates, newest first. The older
// message signatures are checked only to report the oldest instance that still validates.
func (v *Verifier) arcResult(ctx context.Context, fields []headerField, body *bodyHashes) ARCResult {
	sets, err := collectARCSets(fields)
	if err != nil {
		return ARCResult{Status: StatusFail, Reason: err.Error()}
	}
	n := len(sets)
	if n == 0 {
		return ARCResult{Status: StatusNone}
	}
	res := ARCResult{Status: StatusFail, Instances: n, Sealer: strings.ToLower(stripFWS(sets[n-1].sealTags["d"]))}
	_, aar, _ := strings.Cut(sets[n-1].results.value(), ";")
	res.LastAuthResults = strings.TrimSpace(aar)

	if cv := strings.ToLower(sets[n-1].sealTags["cv"]); cv == "fail" {
		res.Reason = fmt.Sprintf("ARC-Seal i=%d says cv=fail", n)
		return res
	}
	for i, s := range sets {
		want := "pass"
		if i == 0 {
			want = "none"
		}
		if cv := strings.ToLower(s.sealTags["cv"]); cv != want {
			res.Reason = fmt.Sprintf("ARC-Seal i=%d has cv=%s, want %s", i+1, cv, want)
			return res
		}
	}

	keys := map[string]*publicKey{}
	verify := func(s arcSet, i int) error {
		return v.verifyAMS(ctx, fields, s, body, keys)
	}
	if err := verify(sets[n-1], n); err != nil {
		res.Reason = fmt.Sprintf("ARC-Message-Signature i=%d: %v", n, err)
		if errors.Is(err, errKeyTemp) {
			res.Status = StatusTempError
		}
		return res
	}
	for i := n - 1; i >= 1; i-- {
		if verify(sets[i-1], i) != nil {
			res.OldestPass = i + 1
			break
		}
	}
	for i := n; i >= 1; i-- {
		if err := v.verifySeal(ctx, sets, i, keys); err != nil {
			res.Reason = fmt.Sprintf("ARC-Seal i=%d: %v", i, err)
			if errors.Is(err, errKeyTemp) {
				res.Status = StatusTempError
			}
			return res
		}
	}
	res.Status = StatusPass
	return res
}

// collectARCSets groups the ARC fields by instance and checks the structure of the chain.
func collectARCSets(fields []headerField) ([]arcSet, error) {
	byInstance := map[int]*arcSet{}
	max := 0
	for idx := range fields {
		f := &fields[idx]
		var kind string
		switch strings.ToLower(f.name) {
		case "arc-seal":
			kind = "seal"
		case "arc-message-signature":
			kind = "sig"
		case "arc-authentication-results":
			kind = "results"
		default:
			continue
		}
		var i int
		var tags map[string]string
		if kind == "results" {
			var err error
			if i, err = aarInstance(f.value()); err != nil {
				return nil, err
			}
		} else {
			var err error
			tags, _, err = parseTags(f.value())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
			if i, err = parseInstance(tags["i"]); err != nil {
				return nil, fmt.Errorf("%s: %w", f.name, err)
			}
		}
		s := byInstance[i]
		if s == nil {
			s = &arcSet{}
			byInstance[i] = s
		}
		dup := false
		switch kind {
		case "seal":
			dup, s.seal, s.sealTags = s.seal != nil, f, tags
		case "sig":
			dup, s.sig, s.sigTags = s.sig != nil, f, tags
		case "results":
			dup, s.results = s.results != nil, f
		}
		if dup {
			return nil, fmt.Errorf("two %s fields with i=%d", f.name, i)
		}
		max = maxInt(max, i)
	}
	sets := make([]arcSet, max)
	for i := 1; i <= max; i++ {
		s := byInstance[i]
		if s == nil || s.seal == nil || s.sig == nil || s.results == nil {
			return nil, fmt.Errorf("ARC set i=%d is incomplete", i)
		}
		sets[i-1] = *s
	}
	return sets, nil
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// parseInstance parses an i= value: 1*2DIGIT from 1 to 50 (RFC 8617 §4.2.1).
func parseInstance(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("invalid instance %q", s)
	}
	i, _ := strconv.Atoi(s)
	if i < 1 || i > maxARCInstances {
		return 0, fmt.Errorf("instance %d out of range", i)
	}
	return i, nil
}

// aarInstance reads the instance of an ARC-Authentication-Results value, "i=N;" then an
// Authentication-Results payload (RFC 8617 §4.1.1).
func aarInstance(value string) (int, error) {
	tag, _, ok := strings.Cut(value, ";")
	if !ok {
		return 0, errors.New("ARC-Authentication-Results: no ; after the instance")
	}
	name, num, ok := strings.Cut(tag, "=")
	if !ok || strings.TrimSpace(name) != "i" {
		return 0, errors.New("ARC-Authentication-Results: does not start with i=")
	}
	return parseInstance(num)
}

// verifyAMS validates one ARC-Message-Signature (RFC 8617 §4.1.2): a DKIM signature without v=,
// with i= the instance, and which may not sign ARC-Seal fields.
func (v *Verifier) verifyAMS(ctx context.Context, fields []headerField, s arcSet, body *bodyHashes, keys map[string]*publicKey) error {
	for _, n := range strings.Split(s.sigTags["h"], ":") {
		if strings.EqualFold(strings.TrimSpace(n), "ARC-Seal") {
			return errors.New("h= includes ARC-Seal") // RFC 8617 §4.1.2
		}
	}
	return v.verifySignature(ctx, fields, s.sig.raw, s.sigTags, body, keys)
}

// verifySeal validates ARC-Seal i (RFC 8617 §5.1.1): relaxed canonicalization of every ARC set
// from 1 to i, in the order AAR, AMS, AS, with the b= value of the seal being checked empty.
func (v *Verifier) verifySeal(ctx context.Context, sets []arcSet, i int, keys map[string]*publicKey) error {
	tags := sets[i-1].sealTags
	for _, t := range []string{"a", "b", "cv", "d", "s"} {
		if _, ok := tags[t]; !ok {
			return fmt.Errorf("missing %s= tag", t)
		}
	}
	if _, ok := tags["h"]; ok {
		return errors.New("h= is not allowed in ARC-Seal") // RFC 8617 §4.1.3
	}
	if t, ok := tags["t"]; ok {
		if _, err := strconv.ParseUint(stripFWS(t), 10, 64); err != nil {
			return fmt.Errorf("invalid t=%q", t)
		}
	}
	a := strings.ToLower(stripFWS(tags["a"]))
	if a != "rsa-sha256" && a != "ed25519-sha256" {
		return fmt.Errorf("unsupported algorithm %q", a)
	}
	sig, err := base64.StdEncoding.DecodeString(stripFWS(tags["b"]))
	if err != nil || len(sig) == 0 {
		return errors.New("invalid b=")
	}
	h := sha256.New()
	for j := 0; j < i; j++ {
		h.Write(canonHeaderRelaxed(sets[j].results.raw))
		h.Write(canonHeaderRelaxed(sets[j].sig.raw))
		if j < i-1 {
			h.Write(canonHeaderRelaxed(sets[j].seal.raw))
		}
	}
	h.Write(trimCRLF(canonHeaderRelaxed(withoutSignature(sets[i-1].seal.raw))))
	key, err := v.cachedKey(ctx, tags, keys)
	if err != nil {
		return err
	}
	return key.verify(a, h.Sum(nil), sig)
}

func (v *Verifier) cachedKey(ctx context.Context, tags map[string]string, keys map[string]*publicKey) (*publicKey, error) {
	d, s := strings.ToLower(stripFWS(tags["d"])), stripFWS(tags["s"])
	if d == "" || s == "" {
		return nil, errors.New("empty d= or s=")
	}
	if k, ok := keys[s+"/"+d]; ok {
		return k, nil
	}
	k, err := v.lookupKey(ctx, s, d)
	if err != nil {
		return nil, err
	}
	keys[s+"/"+d] = k
	return k, nil
}

// parseCanon parses c= (RFC 6376 §3.5): header/body, each simple or relaxed, default simple.
func parseCanon(c string) (header, body string, err error) {
	c = strings.ToLower(stripFWS(c))
	if c == "" {
		return "simple", "simple", nil
	}
	header, body, ok := strings.Cut(c, "/")
	if !ok {
		body = "simple"
	}
	for _, x := range []string{header, body} {
		if x != "simple" && x != "relaxed" {
			return "", "", fmt.Errorf("invalid c=%q", c)
		}
	}
	return header, body, nil
}

func trimCRLF(b []byte) []byte { return []byte(strings.TrimRight(string(b), "\r\n")) }

// arcOverride applies the ARC override of a DMARC failure described in the package doc.
func (v *Verifier) arcOverride(res *Results) {
	if res.DMARC.Status != StatusFail || res.ARC.Status != StatusPass || !v.trustedSealer(res.ARC.Sealer) {
		return
	}
	if !aarSaysDMARCPass(res.ARC.LastAuthResults) {
		return
	}
	res.DMARC.ARCOverride = true
	res.DMARC.Policy = PolicyNone
	res.DMARC.Reason = "arc-override: trusted sealer " + res.ARC.Sealer + " saw dmarc=pass"
}

func (v *Verifier) trustedSealer(d string) bool {
	if d == "" {
		return false
	}
	for _, t := range v.TrustedARCSealers {
		t = strings.ToLower(strings.TrimSuffix(t, "."))
		if d == t || strings.HasSuffix(d, "."+t) {
			return true
		}
	}
	return false
}

// aarSaysDMARCPass reports whether an ARC-Authentication-Results payload (authserv-id; results)
// holds a dmarc=pass result.
func aarSaysDMARCPass(payload string) bool {
	_, results := splitAuthservID(payload)
	for _, r := range results {
		if strings.EqualFold(r.method, "dmarc") && strings.EqualFold(r.value, "pass") {
			return true
		}
	}
	return false
}
