package filter

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"time"

	"posthorn/internal/store"
)

// Greylist delays the first message of every new (client network, sender, recipient) triplet
// with 451 4.7.1: a real MTA retries after the delay and passes; much bulk software never
// retries. The network is the client's /24 (IPv4) or /64 (IPv6), so a sender's pool of outbound
// servers counts as one client. State is in the store (it survives restarts).
type Greylist struct {
	Store  store.GreylistStore
	Delay  time.Duration // the least time between the first attempt and a retry that passes
	Expiry time.Duration // how long a triplet is remembered after its last attempt
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// check is the recipient stage's greylisting. A store error lets the recipient through.
func (g *Greylist) check(ctx context.Context, ip net.IP, from, rcpt string) decision {
	if ip == nil {
		return decision{}
	}
	sender := strings.ToLower(from)
	if sender == "" {
		sender = "<>"
	}
	triplet := network(ip) + "/" + sender + "/" + strings.ToLower(rcpt)
	now := time.Now()
	if g.Now != nil {
		now = g.Now()
	}
	pass, err := g.Store.Greylist(ctx, triplet, now, g.Delay, g.Expiry)
	if err != nil {
		if g.Logger != nil {
			g.Logger.Error("greylist", "err", err)
		}
		return note(Reason{Name: "greylist-error"})
	}
	if !pass {
		// RFC 6647 §2.1: a temporary failure, which a compliant client retries.
		return tempFail(Reason{Name: "greylisted"}, 451, [3]int{4, 7, 1}, "Greylisted, please try again later")
	}
	return decision{}
}
