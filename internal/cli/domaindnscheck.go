package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"posthorn/internal/admin"
)

// writeDNSCheck looks records up through a's resolver and writes one line per record with its
// status, and for each one not published what it should be and what the resolver returned. A
// record not published makes the command fail, so that a script can wait for the zone.
func writeDNSCheck(ctx context.Context, w io.Writer, a *admin.Admin, records []admin.DNSRecord) error {
	checks, err := a.CheckDNS(ctx, records)
	if err != nil {
		return err
	}
	var b strings.Builder
	unpublished := 0
	for _, c := range checks {
		fmt.Fprintf(&b, "%-13s %-5s %s\n", c.Status, c.Record.Type, c.Record.Name)
		if c.Status == admin.DNSPublished {
			continue
		}
		unpublished++
		fmt.Fprintf(&b, "%20s %s\n", "want", strings.Join(strings.Fields(strings.Trim(c.Record.Value, "() ")), " "))
		for _, f := range c.Found {
			fmt.Fprintf(&b, "%20s %s\n", "found", f)
		}
		if c.Error != "" {
			fmt.Fprintf(&b, "%20s %s\n", "error", c.Error)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if unpublished > 0 {
		return fmt.Errorf("%d of %d records are not published as printed by \"domain dns\"", unpublished, len(checks))
	}
	return nil
}
