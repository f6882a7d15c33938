package mailauth

import "net"

// SPFResult is the outcome of an SPF check (RFC 7208 §2.6).
type SPFResult struct {
	Status Status
	// Identity is "mailfrom" or "helo": the identity that was checked (RFC 7208 §2.3, §2.4).
	Identity string
	// Domain is the domain whose policy was evaluated: the MAIL FROM domain, or the HELO name.
	Domain string
	// MailFrom is the reverse path as given (empty for the null sender); Helo the HELO name.
	MailFrom string
	Helo     string
	// Reason is a short explanation for the header comment and the log, or empty.
	Reason string
}

// IPRevResult is the outcome of the iprev check (RFC 8601 §3): the client's address has a PTR
// name whose forward lookup gives the address back.
type IPRevResult struct {
	Status Status
	IP     net.IP
	// Name is the first forward-confirmed host name, when Status is pass.
	Name   string
	Reason string
}

// DKIMResult is the outcome for one DKIM-Signature field (RFC 6376 §6.1, RFC 8601 §2.7.1).
type DKIMResult struct {
	Status Status
	// Domain is the signing domain (d=), Selector s=, Identifier the AUID (i=, or "@"+d=).
	Domain     string
	Selector   string
	Identifier string
	// Algorithm is a= (rsa-sha256, ed25519-sha256).
	Algorithm string
	// HeaderB is the first characters of b=, to tell signatures apart (RFC 6008).
	HeaderB string
	Reason  string
}

// ARCResult is the outcome of ARC chain validation (RFC 8617 §5.2).
type ARCResult struct {
	// Status is none (no ARC sets), pass or fail: the cv= a sealer would write next; or
	// temperror when a sealer's key could not be fetched.
	Status Status
	// Instances is the number of ARC sets (the highest i=).
	Instances int
	// Sealer is the d= of the most recent ARC-Seal, when there is a chain.
	Sealer string
	// OldestPass is the lowest instance whose ARC-Message-Signature still validates
	// (RFC 8617 §5.2 step 6 and §9.2.1's arc.oldest-pass), when Status is pass.
	OldestPass int
	// LastAuthResults is the payload of the most recent ARC-Authentication-Results, after its
	// i= tag: what the last sealer found when the message reached it.
	LastAuthResults string
	Reason          string
}

// Policy is a DMARC disposition (RFC 7489 §6.3 p=).
type Policy string

// DMARC policies.
const (
	PolicyNone       Policy = "none"
	PolicyQuarantine Policy = "quarantine"
	PolicyReject     Policy = "reject"
)

// DMARCResult is the outcome of the DMARC check (RFC 7489 §6.6).
type DMARCResult struct {
	Status Status
	// FromDomain is the RFC5322.From domain; OrgDomain its organisational domain (RFC 7489 §3.2).
	FromDomain string
	OrgDomain  string
	// RecordDomain is the name whose _dmarc record was used (FromDomain or OrgDomain).
	RecordDomain string
	// Requested is the policy the record asks for this domain: p=, or sp= when the record came
	// from the organisational domain and has one.
	Requested Policy
	// Policy is what to apply: none on pass, Requested on fail when the pct= sample selects the
	// message, the next lower policy when it does not (RFC 7489 §6.6.4), none after an ARC
	// override.
	Policy Policy
	// SPFAligned and DKIMAligned tell which mechanism produced an aligned pass.
	SPFAligned  bool
	DKIMAligned bool
	// ARCOverride is true when a DMARC fail was overridden by a trusted ARC chain.
	ARCOverride bool
	Reason      string
}

// Results holds every check of one message. IPRev is filled by the caller, which runs it at
// connect; a zero result (empty Status) is left out of the header.
type Results struct {
	SPF   SPFResult
	IPRev IPRevResult
	DKIM  []DKIMResult
	ARC   ARCResult
	DMARC DMARCResult
}

// Disposition is the DMARC policy to apply to the message: none, quarantine or reject.
func (r Results) Disposition() Policy {
	if r.DMARC.Status != StatusFail || r.DMARC.Policy == "" {
		return PolicyNone
	}
	return r.DMARC.Policy
}
