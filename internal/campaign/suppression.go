package campaign

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// SuppressionInput is an address to suppress. Reason "" is manual; a zero Expires is for
// ever.
type SuppressionInput struct {
	Address string
	Reason  store.SuppressionReason
	Source  string
	Expires time.Time
}

// ParseReason checks a suppression reason given by name; "" is manual.
func ParseReason(s string) (store.SuppressionReason, error) {
	r := store.SuppressionReason(s)
	switch r {
	case "":
		return store.SuppressManual, nil
	case store.SuppressHardBounce, store.SuppressSoftBounces, store.SuppressComplaint, store.SuppressUnsubscribe,
		store.SuppressManual:
		return r, nil
	}
	return "", operr.New(operr.Invalid, "reason", s, nil,
		"reason %q: want manual, hard_bounce, soft_bounces, complaint or unsubscribe", s)
}

// checkSuppression normalises in.
func (s *Service) checkSuppression(in SuppressionInput) (store.Suppression, error) {
	addr, err := operr.ParseAddress("address", in.Address)
	if err != nil {
		return store.Suppression{}, err
	}
	reason, err := ParseReason(string(in.Reason))
	if err != nil {
		return store.Suppression{}, err
	}
	if err := checkLine("source", in.Source, maxName); err != nil {
		return store.Suppression{}, err
	}
	if !in.Expires.IsZero() && !in.Expires.After(s.now()) {
		return store.Suppression{}, operr.New(operr.Invalid, "expires", in.Expires.String(), nil, "the expiry is in the past")
	}
	return store.Suppression{Address: addr, Reason: reason, Source: in.Source, Expires: in.Expires}, nil
}

// Suppress adds an address to the suppression ledger (or replaces its entry).
func (s *Service) Suppress(ctx context.Context, in SuppressionInput) (store.Suppression, error) {
	sup, err := s.checkSuppression(in)
	if err != nil {
		return store.Suppression{}, err
	}
	if err := s.Store.AddSuppressions(ctx, []store.Suppression{sup}); err != nil {
		return store.Suppression{}, err
	}
	return sup, s.record(ctx, "suppression.add", sup.Address, suppressionDetails(sup))
}

// suppressionDetails are an entry's reason, source and expiry, for the audit log.
func suppressionDetails(sup store.Suppression) audit.Details {
	d := audit.Details{"reason": string(sup.Reason)}
	if sup.Source != "" {
		d["source"] = sup.Source
	}
	if !sup.Expires.IsZero() {
		d["expires"] = sup.Expires.UTC().Format(time.RFC3339)
	}
	return d
}

// Unsuppress takes an address out of the ledger.
func (s *Service) Unsuppress(ctx context.Context, addr string) error {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return err
	}
	if err := s.Store.RemoveSuppression(ctx, addr); errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "address", addr, err, "%s is not suppressed", addr)
	} else if err != nil {
		return err
	}
	return s.record(ctx, "suppression.remove", addr, nil)
}

// Suppressions returns up to limit ledger rows after the address after, by address.
func (s *Service) Suppressions(ctx context.Context, after string, limit int) ([]store.Suppression, error) {
	return s.Store.ListSuppressions(ctx, after, limit)
}

// IsSuppressed reports whether the ledger holds addr now, and why.
func (s *Service) IsSuppressed(ctx context.Context, addr string) (store.Suppression, bool, error) {
	addr, err := operr.ParseAddress("address", addr)
	if err != nil {
		return store.Suppression{}, false, err
	}
	return s.Store.IsSuppressed(ctx, addr, s.now())
}

// ImportSuppressions adds every address of r (one per line; blank lines and lines starting
// with # are skipped) to the ledger with the reason, source and expiry of in (its Address is
// unused), ImportBatch at a time. Lines that are not an address are reported through opts.
func (s *Service) ImportSuppressions(ctx context.Context, r io.Reader, in SuppressionInput, opts ImportOptions) (ImportReport, error) {
	in.Address = "x@example.org" // checks the rest of in
	proto, err := s.checkSuppression(in)
	if err != nil {
		return ImportReport{}, err
	}
	counted := &countingReader{r: r}
	lines := bufio.NewScanner(counted)
	var report ImportReport
	rep := reporter{opts: opts, report: &report}
	batch := make([]store.Suppression, 0, ImportBatch)
	flush := func() error {
		if err := s.Store.AddSuppressions(ctx, batch); err != nil {
			return err
		}
		report.Imported += len(batch)
		batch = batch[:0]
		rep.progress(counted.n)
		return nil
	}
	line := 0
	for lines.Scan() {
		line++
		report.Rows++
		text := strings.TrimSpace(lines.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			report.Rows--
			continue
		}
		addr, err := operr.ParseAddress("address", text)
		if err != nil {
			rep.reject(Rejection{Line: line, Address: text, Reason: ReasonBadAddress, Detail: err.Error()})
			continue
		}
		sup := proto
		sup.Address = addr
		batch = append(batch, sup)
		if len(batch) == ImportBatch {
			if err := flush(); err != nil {
				return report, fmt.Errorf("import suppressions: %w", err)
			}
		}
	}
	if err := lines.Err(); err != nil {
		return report, fmt.Errorf("import suppressions: line %d: %w", line+1, err)
	}
	if err := flush(); err != nil {
		return report, fmt.Errorf("import suppressions: %w", err)
	}
	d := suppressionDetails(proto)
	d["rows"], d["imported"], d["rejected"] = report.Rows, report.Imported, report.Rejects
	return report, s.record(ctx, "suppression.import", "", d)
}
