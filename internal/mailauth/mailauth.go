// Package mailauth verifies who sent an inbound message: SPF (RFC 7208), DKIM (RFC 6376, with
// Ed25519 from RFC 8463 and the RSA rules of RFC 8301), DMARC (RFC 7489), ARC (RFC 8617) and
// iprev (RFC 8601 §3), and writes the outcome as one Authentication-Results header (RFC 8601).
//
// # Stages
//
// Each check runs at the first SMTP stage that has its input, so a caller can start it early and
// in parallel with other work:
//
//   - at connect: Verifier.IPRev(ctx, ip) — PTR names, each confirmed by a forward lookup;
//   - at MAIL FROM: Verifier.SPF(ctx, ip, helo, mailFrom) — the MAIL FROM identity, or the HELO
//     identity for the null sender (RFC 7208 §2.4);
//   - after DATA/BDAT: Verifier.Message(ctx, spf, msg, size) — DKIM, ARC and DMARC over the
//     stored message. DKIM signatures, the ARC chain and the DMARC policy lookup run
//     concurrently; DMARC then combines the aligned SPF and DKIM results.
//
// The results are plain values (SPFResult, IPRevResult, Results). Results.Disposition says what
// the DMARC policy asks for (none, quarantine, reject) after pct= sampling, sp= for subdomains
// and the ARC override; what to do with it (reject with 550 5.7.1, file into Junk, soften reject
// to Junk) is the caller's decision. Results.Header renders every result as one
// Authentication-Results field, and StripAuthResults removes incoming Authentication-Results
// fields that claim our authserv-id before ours is added (ARC sets are never touched).
//
// # DNS errors
//
// Every lookup goes through dns.Resolver. A lookup that fails temporarily (timeout, SERVFAIL)
// gives the temperror result of the check concerned; nothing here panics or returns a Go error
// for bad DNS or bad input.
//
// # Choices
//
//   - DKIM follows RFC 8301: rsa-sha1 signatures and RSA keys under 1024 bits are never valid.
//     Signatures with an l= body length are not valid either (anyone could append to the
//     signed body, RFC 6376 §8.2). DomainKeys (RFC 4870, Historic) is not verified. i= is
//     decoded (dkim-quoted-printable) and its domain compared with d= without regard to case
//     (RFC 6376 §3.5); a key with t=s wants that domain to be d= exactly (§3.6.1).
//   - Each body hash a message's DKIM and ARC signatures ask for is computed once, the DKIM
//     ones in one pass over the body, and each DKIM key is fetched once per message.
//   - Internationalized domains (MAIL FROM, HELO, From) are checked as A-labels (RFC 5891).
//   - Every SPF record fetched during an evaluation is checked against the grammar of RFC 7208
//     §12, so a syntax error anywhere in a record gives permerror (§4.6), as the RFC requires,
//     even where the evaluation would have stopped before it. The SPF library expands %{p} to
//     "unknown" and cannot read a "/" inside an a or mx domain-spec: records are rewritten
//     before it reads them so that both follow RFC 7208 §7 (see spfrewrite.go).
//   - DMARC: a message with several From fields, or one From field with addresses in different
//     domains, fails with the reject policy (RFC 7489 §6.6.1: such messages "are typically
//     rejected"). When no aligned identifier passes but an aligned SPF or DKIM check ended in
//     temperror, the DMARC result is temperror with no policy, so the sender can retry rather
//     than be rejected. An invalid record gives permerror (no policy), unless it has rua=, which
//     makes it p=none (RFC 7489 §6.6.3).
//   - ARC: the chain status is none, pass or fail (RFC 8617 §4.1.3), or temperror when a sealer's
//     key cannot be fetched. Older ARC-Message-Signatures are checked only to report
//     header.oldest-pass.
//   - iprev checks at most 10 PTR names.
//
// # The ARC override of DMARC
//
// RFC 7489 §6.7 lets a receiver apply local policy, and RFC 8617 §7.2 lets it use a valid ARC
// chain to judge mail that a mailing list or forwarder broke. posthorn's rule is explicit and
// narrow: a DMARC fail is overridden (the disposition becomes none, and the DMARC result carries
// the reason "arc-override") only when all of these hold:
//
//  1. the ARC chain validates (arc=pass, RFC 8617 §5.2);
//  2. the most recent ARC set (the hop that handed the message to us) was sealed by a domain in
//     Verifier.TrustedARCSealers (exact domain or a subdomain of it);
//  3. that set's ARC-Authentication-Results records dmarc=pass for the message.
//
// With no trusted sealers configured, ARC is verified and reported but never changes the
// disposition.
package mailauth

import (
	"log/slog"
	"math/rand/v2"
	"time"

	"posthorn/internal/dns"
)

// Status is the result value of one method, as registered for Authentication-Results
// (RFC 8601 §2.7, RFC 7489 §11.2, RFC 8617 §10.1).
type Status string

// Result values. Not every method uses every value: iprev has no neutral, ARC has only none,
// pass, fail and (for an unreachable key) temperror.
const (
	StatusNone      Status = "none"
	StatusPass      Status = "pass"
	StatusFail      Status = "fail"
	StatusSoftFail  Status = "softfail"
	StatusNeutral   Status = "neutral"
	StatusPolicy    Status = "policy"
	StatusTempError Status = "temperror"
	StatusPermError Status = "permerror"
)

// Verifier runs the checks. Its fields are read-only once it is in use; one Verifier serves any
// number of concurrent messages.
type Verifier struct {
	// Resolver answers every DNS lookup. Required.
	Resolver dns.Resolver
	// Hostname is our authserv-id (RFC 8601 §2.5), normally the server's host name.
	Hostname string
	// Now returns the current time, for the DKIM x= expiry check (RFC 6376 §3.5).
	// Default: time.Now.
	Now func() time.Time
	// Percent returns a uniformly random integer in [0, 100), used for DMARC pct= sampling
	// (RFC 7489 §6.6.4). Default: math/rand/v2. Tests set it to get deterministic sampling.
	Percent func() int
	// TrustedARCSealers lists the domains whose ARC seals may override a DMARC failure (see the
	// package doc). Default: none, so ARC never overrides DMARC.
	TrustedARCSealers []string
	// MaxDKIMSignatures bounds the DKIM signatures verified per message; more are ignored.
	// Default: 5.
	MaxDKIMSignatures int
	// Logger receives debug records about lookups. Default: slog.Default().
	Logger *slog.Logger

	parsedKeys parsedKeys
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) percent() int {
	if v.Percent != nil {
		return v.Percent()
	}
	return rand.IntN(100)
}

func (v *Verifier) logger() *slog.Logger {
	if v.Logger != nil {
		return v.Logger
	}
	return slog.Default()
}

func (v *Verifier) maxDKIM() int {
	if v.MaxDKIMSignatures > 0 {
		return v.MaxDKIMSignatures
	}
	return 5
}
