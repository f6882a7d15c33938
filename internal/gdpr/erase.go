package gdpr

import (
	"context"
	"errors"
	"fmt"

	"posthorn/internal/audit"
	"posthorn/internal/store"
)

// Erasure reports an erasure: the pseudonym that replaced the address where rows stay, and
// what went, part by part (for a dry run: what would go).
type Erasure struct {
	Address   string
	Pseudonym string // "" for a dry run
	DryRun    bool
	Parts     []Count
	// AuditID is the audit log entry recording the erasure (0 for a dry run).
	AuditID int64
}

// Erase removes everything the server holds about address and pseudonymises what must stay
// (package doc); with dryRun it only counts what would go and changes nothing. An address
// the server holds nothing about is an *operr.Error (not_found, field "address"). Each step
// can be done again, so an erasure that failed partway is finished by running it again.
func (s *Service) Erase(ctx context.Context, address string, dryRun bool) (Erasure, error) {
	p, err := s.Find(ctx, address)
	if err != nil {
		return Erasure{}, err
	}
	out := Erasure{Address: p.Address, DryRun: dryRun, Parts: p.Parts()}
	if dryRun {
		return out, nil
	}
	g, err := s.gdprStore()
	if err != nil {
		return out, err
	}
	log, err := s.auditLog()
	if err != nil {
		return out, err
	}
	if out.Pseudonym, err = s.Pseudonym(ctx, p.Address); err != nil {
		return out, fmt.Errorf("erase %s: %w", p.Address, err)
	}
	// The account first, so that no new mail lands in it while the rest goes; its removal is
	// audited under the address, which the pseudonymisation below rewrites.
	if p.Account != nil {
		if err := s.Accounts.RemoveAccount(ctx, p.Address); err != nil {
			return out, fmt.Errorf("erase %s: remove the account: %w", p.Address, err)
		}
	}
	erased, err := g.ErasePersonalData(ctx, p.Address, out.Pseudonym)
	if err != nil {
		return out, err
	}
	var errs []error
	for _, id := range erased.Unreferenced {
		errs = append(errs, s.Bodies.Remove(id))
	}
	if err := errors.Join(errs...); err != nil {
		return out, fmt.Errorf("erase %s: remove message bodies: %w", p.Address, err)
	}
	if _, err := log.Pseudonymise(ctx, p.Address, out.Pseudonym); err != nil {
		return out, fmt.Errorf("erase %s: pseudonymise the audit log: %w", p.Address, err)
	}
	details := audit.Details{}
	for _, c := range out.Parts {
		if c.Count > 0 {
			details[c.Part] = c.Count
		}
	}
	entry, err := s.recordErasure(ctx, log, out.Pseudonym, details)
	if err != nil {
		return out, fmt.Errorf("erased, but not recorded in the audit log: %w", err)
	}
	out.AuditID = entry
	if err := g.PurgeFreed(ctx); err != nil {
		return out, fmt.Errorf("erased, but the freed space still holds the data: %w", err)
	}
	return out, nil
}

// recordErasure appends the audit entry of an erasure, under the pseudonym only, and returns
// its id.
func (s *Service) recordErasure(ctx context.Context, log *audit.Log, pseudonym string, details audit.Details) (int64, error) {
	if err := log.Record(ctx, "gdpr.erase", pseudonym, details); err != nil {
		return 0, err
	}
	last, err := log.List(ctx, store.AuditFilter{Action: "gdpr.erase", Target: pseudonym})
	if err != nil || len(last) == 0 {
		return 0, err
	}
	return last[len(last)-1].ID, nil
}
