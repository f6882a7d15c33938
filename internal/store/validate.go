package store

import (
	"errors"
	"fmt"

	"posthorn/internal/address"
)

// ValidDelivery refuses a delivery no backend can commit: no blob id, no target and no
// outbound recipient, an invalid flag, or an invalid outbound address or priority.
func ValidDelivery(d Delivery) error {
	if d.BlobID == "" {
		return errors.New("delivery without blob id")
	}
	if len(d.Targets) == 0 && len(d.Outbound) == 0 {
		return fmt.Errorf("blob %s: no target", d.BlobID)
	}
	if err := ValidOutbound(d.Outbound); err != nil {
		return fmt.Errorf("blob %s: %w", d.BlobID, err)
	}
	for _, t := range d.Targets {
		if _, err := NormalizeFlags(t.Flags); err != nil {
			return fmt.Errorf("blob %s: %w", d.BlobID, err)
		}
	}
	return nil
}

// ValidOutbound refuses outbound recipients with an invalid address or an unknown priority.
func ValidOutbound(out []Outbound) error {
	for _, o := range out {
		if _, err := address.Parse(o.Recipient); err != nil {
			return fmt.Errorf("outbound recipient %q: %w", o.Recipient, err)
		}
		if o.Sender != "" {
			if _, err := address.Parse(o.Sender); err != nil {
				return fmt.Errorf("outbound sender %q: %w", o.Sender, err)
			}
		}
		if o.Priority != PriorityNormal && o.Priority != PriorityBulk {
			return fmt.Errorf("outbound recipient %q: unknown priority %d", o.Recipient, o.Priority)
		}
	}
	return nil
}
