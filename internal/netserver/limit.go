package netserver

import (
	"net"
	"net/netip"
	"sync"
	"time"
)

// Default limits of a listener, used where a server's field is zero.
const (
	// DefaultMaxPerAddress is how many connections one client address (an IPv4 address, an
	// IPv6 /64) may hold at once on one server. A household behind one NAT address shares it:
	// a mail client opens about five IMAP connections per account (Thunderbird: up to five
	// cached connections, plus IDLE), and a family has a few devices with a few accounts
	// each, which stays well under 50; one host taking every slot of a server with the
	// default 1,000 needs 20 addresses.
	DefaultMaxPerAddress = 50
	// DefaultLoginTimeout is how long a session that has not logged in may wait for a whole
	// command line. RFC 9051 §5.4's 30 minutes are for authenticated sessions; 60 seconds is
	// what Dovecot and Postfix's postscreen allow before login.
	DefaultLoginTimeout = 60 * time.Second
)

// Refusal says why a Limiter refused a connection.
type Refusal uint8

const (
	Accepted           Refusal = iota
	TooManyConnections         // the server's limit
	TooManyFromAddress         // the limit per client address
)

// Limiter counts the open connections of a server, in total and per client address, and
// refuses a connection over either limit. The zero Limiter limits nothing; set the fields
// before the first Acquire.
type Limiter struct {
	Max           int // connections at once; 0: no limit
	MaxPerAddress int // connections at once from one AddressKey; 0: no limit

	mu     sync.Mutex
	total  int
	byAddr map[netip.Prefix]int
}

// AddressKey is the client a connection counts against: its IPv4 address, or the /64 of its
// IPv6 address, since one IPv6 host or household usually holds a whole /64 (RFC 6177).
// A connection that is not TCP/IP (a pipe in a test) counts as the zero prefix.
func AddressKey(addr net.Addr) netip.Prefix {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		if a == nil {
			return netip.Prefix{}
		}
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Prefix{}
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// Acquire takes a slot for a connection from addr. On Accepted the caller must call release
// once, when the connection ends.
func (l *Limiter) Acquire(addr net.Addr) (release func(), r Refusal) {
	key := AddressKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.Max > 0 && l.total >= l.Max {
		return nil, TooManyConnections
	}
	if l.MaxPerAddress > 0 && l.byAddr[key] >= l.MaxPerAddress {
		return nil, TooManyFromAddress
	}
	if l.byAddr == nil {
		l.byAddr = map[netip.Prefix]int{}
	}
	l.total++
	l.byAddr[key]++
	var once sync.Once
	return func() { once.Do(func() { l.release(key) }) }, Accepted
}

func (l *Limiter) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.byAddr[key]--; l.byAddr[key] <= 0 {
		delete(l.byAddr, key)
	}
}

// Active is the number of connections holding a slot.
func (l *Limiter) Active() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.total
}

// Listener is a net.Listener whose Accept holds every connection to Limiter: a connection
// over a limit gets Refuse's reply and is closed, and the next one is accepted; the slot of
// an accepted connection is free again when it is closed. It serves listeners whose accept
// loop is a library's (go-smtp, net/http).
type Listener struct {
	net.Listener
	Limiter *Limiter
	// Refuse returns what is written to a refused connection before it is closed: a whole
	// protocol reply, with its line end.
	Refuse func(r Refusal) string
	// Refused, when set, is told of every refusal (metrics).
	Refused func(r Refusal)
}

// Accept returns the next connection within the limits.
func (l *Listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		release, r := l.Limiter.Acquire(c.RemoteAddr())
		if r != Accepted {
			if l.Refused != nil {
				l.Refused(r)
			}
			refuse(c, l.Refuse(r))
			continue
		}
		return &limitedConn{Conn: c, release: release}, nil
	}
}

// limitedConn gives its slot back when closed.
type limitedConn struct {
	net.Conn
	release func()
}

func (c *limitedConn) Close() error {
	c.release()
	return c.Conn.Close()
}
