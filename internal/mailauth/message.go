package mailauth

import (
	"context"
	"errors"
	"io"
	"sync"
)

// Message verifies DKIM, ARC and DMARC for a message of size bytes, given the SPF result from
// MAIL FROM. It reads the header once, then verifies the DKIM signatures, validates the ARC
// chain and looks up the DMARC policy concurrently (each reads msg on its own), and finally
// evaluates DMARC and the ARC override. The caller adds its iprev result to Results.IPRev.
func (v *Verifier) Message(ctx context.Context, spf SPFResult, msg io.ReaderAt, size int64) Results {
	res := Results{SPF: spf}
	fields, bodyOffset, err := readHeader(io.NewSectionReader(msg, 0, size))
	if err != nil && !errors.Is(err, errHeaderTooLong) {
		res.ARC = ARCResult{Status: StatusNone, Reason: "unreadable header"}
		res.DMARC = DMARCResult{Status: StatusTempError, Policy: PolicyNone, Reason: "unreadable header"}
		return res
	}

	from, fromErr := fromDomain(fields)
	org := orgDomain(from)

	body := newBodyHashes(msg, bodyOffset, size)
	var wg sync.WaitGroup
	var lookup dmarcLookup
	wg.Go(func() { res.DKIM = v.dkimResults(ctx, fields, body) })
	wg.Go(func() { res.ARC = v.arcResult(ctx, fields, body) })
	if fromErr == nil {
		wg.Go(func() { lookup = v.lookupDMARC(ctx, from, org) })
	}
	wg.Wait()

	switch {
	case errors.Is(fromErr, errMultipleFrom):
		// RFC 7489 §6.6.1: such messages "are typically rejected".
		res.DMARC = DMARCResult{Status: StatusFail, Requested: PolicyReject, Policy: PolicyReject, Reason: fromErr.Error()}
	case fromErr != nil:
		res.DMARC = DMARCResult{Status: StatusPermError, Policy: PolicyNone, Reason: fromErr.Error()}
	default:
		res.DMARC = v.evaluateDMARC(from, org, lookup, spf, res.DKIM)
		v.arcOverride(&res)
	}
	v.logger().Debug("mailauth", "spf", res.SPF.Status, "dkim", len(res.DKIM), "arc", res.ARC.Status,
		"dmarc", res.DMARC.Status, "policy", res.DMARC.Policy)
	return res
}
