package mailauth

import (
	"context"
	"net"
)

// IPRev runs the iprev check for a client address.
func (v *Verifier) IPRev(ctx context.Context, ip net.IP) IPRevResult {
	return IPRevResult{Status: StatusNone, IP: ip}
}
