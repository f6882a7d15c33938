package mailauth

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// dmarcRecord is the part of a DMARC policy record (RFC 7489 §6.3) that evaluation needs.
type dmarcRecord struct {
	Policy          Policy // p=
	SubdomainPolicy Policy // sp=, or "" when absent
	StrictDKIM      bool   // adkim=s
	StrictSPF       bool   // aspf=s
	Percent         int    // pct=, default 100
}

var errNotDMARC = errors.New("not a DMARC record")

// parseDMARCRecord parses a DMARC record (RFC 7489 §6.4). It must start with v=DMARC1
// (errNotDMARC otherwise: such TXT records are ignored, §6.6.3). An invalid or missing p= is an
// error unless the record has rua=, in which case it counts as p=none (§6.6.3). Unknown tags are
// ignored (§6.3); the reporting tags are accepted and not used.
func parseDMARCRecord(s string) (dmarcRecord, error) {
	rec := dmarcRecord{Percent: 100}
	tags, order, err := parseTags(s)
	if err != nil {
		if strings.HasPrefix(strings.TrimLeft(s, " \t"), "v=DMARC1") {
			return rec, fmt.Errorf("dmarc record: %w", err)
		}
		return rec, errNotDMARC
	}
	// RFC 7489 §6.4: "v" MUST be the first tag, with the exact value DMARC1.
	if len(order) == 0 || order[0] != "v" || tags["v"] != "DMARC1" {
		return rec, errNotDMARC
	}
	_, hasRUA := tags["rua"]
	p, ok := parsePolicy(tags["p"])
	if !ok {
		if !hasRUA {
			return rec, fmt.Errorf("dmarc record: invalid p=%q", tags["p"])
		}
		p = PolicyNone
	}
	rec.Policy = p
	if v, present := tags["sp"]; present {
		sp, ok := parsePolicy(v)
		if !ok {
			if !hasRUA {
				return rec, fmt.Errorf("dmarc record: invalid sp=%q", v)
			}
			sp = PolicyNone
		}
		rec.SubdomainPolicy = sp
	}
	switch strings.ToLower(tags["adkim"]) {
	case "", "r":
	case "s":
		rec.StrictDKIM = true
	default:
		return rec, fmt.Errorf("dmarc record: invalid adkim=%q", tags["adkim"])
	}
	switch strings.ToLower(tags["aspf"]) {
	case "", "r":
	case "s":
		rec.StrictSPF = true
	default:
		return rec, fmt.Errorf("dmarc record: invalid aspf=%q", tags["aspf"])
	}
	if v, present := tags["pct"]; present {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 100 {
			return rec, fmt.Errorf("dmarc record: invalid pct=%q", v)
		}
		rec.Percent = n
	}
	return rec, nil
}

func parsePolicy(s string) (Policy, bool) {
	switch p := Policy(strings.ToLower(s)); p {
	case PolicyNone, PolicyQuarantine, PolicyReject:
		return p, true
	}
	return "", false
}
