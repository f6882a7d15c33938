package mailauth

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// dkimResults verifies every DKIM-Signature (RFC 6376 §6, up to MaxDKIMSignatures) of the
// message, with keys looked up through the Verifier's resolver. A message without signatures
// gives no results (dkim=none in the header).
//
// It works in three steps, so that no work is done twice for a message with several
// signatures: each signature's tags are checked (dkimPrecheck); the keys are fetched, each
// distinct selector and domain once and concurrently, while the body hashes that the
// signatures ask for are computed in one pass over the body (bodyHashes, shared with ARC);
// then each signature's key, body hash and header signature are checked (dkimFinish).
//
// Signatures with rsa-sha1 or RSA keys under 1024 bits are not valid (RFC 8301 §3.1, §3.2), and
// neither are signatures with an l= body length, which would let anyone append to a signed body
// (RFC 6376 §8.2).
func (v *Verifier) dkimResults(ctx context.Context, fields []headerField, body *bodyHashes) []DKIMResult {
	sigs := fieldsNamed(fields, "DKIM-Signature")
	if len(sigs) == 0 {
		return nil
	}
	if len(sigs) > v.maxDKIM() {
		sigs = sigs[:v.maxDKIM()]
	}
	now := v.now()
	checks := make([]*dkimCheck, len(sigs))
	var keyNames []string
	var forms []bodyForm
	for i, f := range sigs {
		c := dkimPrecheck(f, now)
		checks[i] = c
		if c.done {
			continue
		}
		if !containsFold(keyNames, c.keyName()) {
			keyNames = append(keyNames, c.keyName())
		}
		if c.bodyOK && !containsForm(forms, c.body) {
			forms = append(forms, c.body)
		}
	}

	keys := make([]dkimKey, len(keyNames))
	var wg sync.WaitGroup
	for i, name := range keyNames[min(1, len(keyNames)):] {
		wg.Go(func() { keys[i+1] = v.fetchDKIMKey(ctx, name) })
	}
	if len(keyNames) > 0 {
		keys[0] = v.fetchDKIMKey(ctx, keyNames[0])
	}
	var hashErr error
	if len(forms) > 0 {
		_, hashErr = body.hashes(forms...)
	}
	wg.Wait()

	results := make([]DKIMResult, len(checks))
	for i, c := range checks {
		if !c.done {
			for k, name := range keyNames {
				if strings.EqualFold(name, c.keyName()) {
					c.finish(keys[k], fields, body, hashErr)
					break
				}
			}
		}
		results[i] = c.res
	}
	return results
}

// dkimCheck is the verification of one DKIM-Signature field in progress. Once done, res is
// its result.
type dkimCheck struct {
	res  DKIMResult
	done bool

	field          headerField
	tags           map[string]string
	domain         string // d=, lower case
	auidDomain     string // the domain of i=, lower case
	selector       string
	keyAlgo        string // a= before the "-"
	hashAlgo       string // a= after the "-"
	headerRelaxed  bool
	body           bodyForm
	bodyOK         bool // c= names known algorithms, and there is no l=
	names          []string
	canonErr       string
	hasBodyLength  bool
	bodyHash, sign []byte
}

func (c *dkimCheck) keyName() string { return c.selector + "._domainkey." + c.domain }

func (c *dkimCheck) end(status Status, reason string) *dkimCheck {
	c.res.Status, c.res.Reason, c.done = status, reason, true
	return c
}

// dkimPrecheck checks what a signature says before its key is fetched (RFC 6376 §6.1.1): the
// tag list, v=1, the required tags, i= within d= (§3.5; i= is dkim-quoted-printable and its
// domain is compared without regard to case), From among the signed fields (§5.4), t= and the
// x= expiry against now, and the query method (§3.5 q=, only dns/txt).
func dkimPrecheck(f headerField, now time.Time) *dkimCheck {
	c := &dkimCheck{field: f}
	tags, _, err := parseTags(f.value())
	c.tags = tags
	c.domain = strings.ToLower(stripFWS(tags["d"]))
	c.selector = stripFWS(tags["s"])
	c.res = DKIMResult{
		Domain:    c.domain,
		Selector:  c.selector,
		Algorithm: strings.ToLower(stripFWS(tags["a"])),
		HeaderB:   prefix(stripFWS(tags["b"]), 8),
	}
	if err != nil {
		return c.end(StatusPermError, "malformed signature tags: "+err.Error())
	}
	if tags["v"] != "1" {
		return c.end(StatusPermError, "incompatible signature version")
	}
	for _, t := range []string{"v", "a", "b", "bh", "d", "h", "s"} {
		if _, ok := tags[t]; !ok {
			return c.end(StatusPermError, "signature missing required tag")
		}
	}
	c.res.Identifier = "@" + stripFWS(tags["d"])
	c.auidDomain = c.domain
	if i, ok := tags["i"]; ok {
		auid := dkimQPDecode(stripFWS(i))
		c.res.Identifier = auid
		at := strings.LastIndexByte(auid, '@')
		if at < 0 {
			return c.end(StatusPermError, "i= is not an address")
		}
		c.auidDomain = strings.ToLower(auid[at+1:])
		if c.auidDomain != c.domain && !strings.HasSuffix(c.auidDomain, "."+c.domain) {
			return c.end(StatusPermError, "i= is not within d=")
		}
	}
	for n := range strings.SplitSeq(tags["h"], ":") {
		c.names = append(c.names, stripFWS(n))
	}
	if !containsFold(c.names, "from") {
		return c.end(StatusPermError, "From field not signed")
	}
	if t, ok := tags["t"]; ok {
		if _, err := strconv.ParseInt(stripFWS(t), 10, 64); err != nil {
			return c.end(StatusPermError, "malformed time: "+err.Error())
		}
	}
	if x, ok := tags["x"]; ok {
		exp, err := strconv.ParseInt(stripFWS(x), 10, 64)
		if err != nil {
			return c.end(StatusPermError, "malformed expiration time: "+err.Error())
		}
		if now.After(time.Unix(exp, 0)) {
			return c.end(StatusPermError, "signature has expired")
		}
	}
	if q, ok := tags["q"]; ok && !containsFold(strings.Split(stripFWS(q), ":"), "dns/txt") {
		return c.end(StatusPermError, "unsupported public key query method")
	}
	c.keyAlgo, c.hashAlgo, _ = strings.Cut(stripFWS(tags["a"]), "-")
	headerCanon, bodyCanon, err := parseCanon(tags["c"])
	if err != nil {
		c.canonErr = "unsupported canonicalization algorithm: " + err.Error()
	}
	c.headerRelaxed = headerCanon == "relaxed"
	c.body = bodyForm{relaxed: bodyCanon == "relaxed", limit: -1}
	_, c.hasBodyLength = tags["l"]
	c.bodyOK = err == nil && !c.hasBodyLength
	return c
}

// finish checks the signature against its key (RFC 6376 §6.1.2) and the message (§6.1.3).
func (c *dkimCheck) finish(k dkimKey, fields []headerField, body *bodyHashes, hashErr error) {
	if k.err != "" {
		c.end(k.status, k.err)
		return
	}
	key := k.key
	switch {
	case c.hashAlgo == "":
		c.end(StatusPermError, "malformed algorithm name")
	case key.hashes != nil && !containsFold(key.hashes, c.hashAlgo):
		c.end(StatusPermError, "inappropriate hash algorithm")
	case strings.EqualFold(c.hashAlgo, "sha1"):
		c.end(StatusPermError, "hash algorithm too weak: sha1") // RFC 8301 §3.1
	case !strings.EqualFold(c.hashAlgo, "sha256"):
		c.end(StatusPermError, "unsupported hash algorithm")
	case !(strings.EqualFold(c.keyAlgo, "rsa") && key.rsa != nil) && !(strings.EqualFold(c.keyAlgo, "ed25519") && key.ed25519 != nil):
		c.end(StatusPermError, "inappropriate key algorithm")
	case key.services != nil && !containsFold(key.services, "email") && !containsFold(key.services, "*"):
		c.end(StatusPermError, "inappropriate service")
	case key.strict && c.auidDomain != c.domain:
		c.end(StatusPermError, "key requires i= in d= exactly (t=s)") // RFC 6376 §3.6.1
	case c.canonErr != "":
		c.end(StatusPermError, c.canonErr)
	case c.hasBodyLength:
		c.end(StatusFail, "message contains an insecure body length tag")
	}
	if c.done {
		return
	}
	var err error
	if c.bodyHash, err = base64.StdEncoding.DecodeString(stripFWS(c.tags["bh"])); err != nil {
		c.end(StatusPermError, "malformed body hash: "+err.Error())
		return
	}
	if c.sign, err = base64.StdEncoding.DecodeString(stripFWS(c.tags["b"])); err != nil {
		c.end(StatusPermError, "malformed signature: "+err.Error())
		return
	}
	if hashErr != nil {
		c.end(StatusTempError, "reading the body: "+hashErr.Error())
		return
	}
	bh, err := body.hash(c.body)
	if err != nil {
		c.end(StatusTempError, "reading the body: "+err.Error())
		return
	}
	if subtle.ConstantTimeCompare(bh, c.bodyHash) != 1 {
		c.end(StatusFail, "body hash did not verify")
		return
	}
	signed := signedHeaderHash(fields, c.field.raw, c.names, c.headerRelaxed)
	if err := key.verify(strings.ToLower(c.keyAlgo)+"-sha256", signed, c.sign); err != nil {
		c.end(StatusFail, "signature did not verify: "+err.Error())
		return
	}
	c.end(StatusPass, "")
}

// dkimKey is a fetched DKIM key, or why there is none: err is the reason and status the result
// (temperror when the lookup failed temporarily, permerror otherwise).
type dkimKey struct {
	key    *publicKey
	status Status
	err    string
}

// fetchDKIMKey looks up and parses the key record at name (RFC 6376 §3.6.2.2): one TXT record,
// else permerror.
func (v *Verifier) fetchDKIMKey(ctx context.Context, name string) dkimKey {
	txts, err := v.Resolver.LookupTXT(ctx, name)
	if err != nil {
		err = netError(name, err)
		if ne, ok := err.(*net.DNSError); ok && !ne.IsNotFound {
			return dkimKey{status: StatusTempError, err: "key unavailable: " + err.Error()}
		}
		return dkimKey{status: StatusPermError, err: "no key for signature: " + err.Error()}
	}
	switch len(txts) {
	case 0:
		return dkimKey{status: StatusPermError, err: "no valid key found"}
	case 1:
	default:
		return dkimKey{status: StatusPermError, err: "multiple TXT records found for key"}
	}
	key, err := v.parsedKeys.parse(txts[0])
	if err != nil {
		return dkimKey{status: StatusPermError, err: err.Error()}
	}
	return dkimKey{key: key}
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

func prefix(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
