package store

import (
	"errors"
	"fmt"
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
	if err := ValidateOutbound(d.Outbound); err != nil {
		return fmt.Errorf("blob %s: %w", d.BlobID, err)
	}
	for _, t := range d.Targets {
		if _, err := NormalizeFlags(t.Flags); err != nil {
			return fmt.Errorf("blob %s: %w", d.BlobID, err)
		}
	}
	return nil
}
