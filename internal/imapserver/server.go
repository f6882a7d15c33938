package imapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/netserver"
	"posthorn/internal/store"
)

// Default limits, used when the Server's fields are zero.
const (
	DefaultAppendLimit = 50 << 20
	// DefaultIdleTimeout is how long a session may stay silent outside IDLE: RFC 9051 §5.4
	// asks for at least 30 minutes.
	DefaultIdleTimeout = 30 * time.Minute
	// idleKeepalive is how often an IDLE session is told the server is still there, so NAT
	// boxes keep the connection (RFC 2177 §3 asks clients to re-IDLE within 29 minutes).
	idleKeepalive = 2 * time.Minute
	// writeTimeout bounds how long one command's responses may take to be written: a client
	// that stops reading does not hold its session forever.
	writeTimeout = 5 * time.Minute
)

// Server is an IMAP server. Set the fields, then call Serve or ServeTLS.
type Server struct {
	Hostname  string // in the greeting
	Store     store.Store
	Bodies    bodystore.Bodies           // message bodies: FETCH and SEARCH read them, EXPUNGE removes them
	Committer *delivery.Committer        // owns APPENDed messages: their bodies, durability, rows
	Auth      *credentials.Authenticator // LOGIN and AUTHENTICATE, with throttling
	Logger    *slog.Logger
	Metrics   *Metrics    // nil records nothing
	TLSConfig *tls.Config // nil: no STARTTLS and no ServeTLS
	// AllowInsecureAuth permits LOGIN and AUTHENTICATE PLAIN without TLS on connections from a
	// loopback address (for a trial server and tests). Elsewhere, or when false, they need TLS
	// and the server advertises LOGINDISABLED until then (RFC 9051 §6.2.3).
	AllowInsecureAuth bool
	// AppendLimit is the largest message APPEND takes, in octets (RFC 7889). Default: 50 MiB.
	AppendLimit int64
	// MaxConnections refuses connections over it with "* BYE" at once; 0 means no limit.
	MaxConnections int
	// MaxPerAddress refuses a connection from a client address (an IPv4 address, an IPv6 /64)
	// that holds that many already, with "* BYE [UNAVAILABLE]"; 0 means no limit.
	MaxPerAddress int
	// LoginTimeout is how long a session may take from its connection to its login: every
	// command line before it must be complete by then (NOOP does not extend it). Default: 60
	// seconds (netserver.DefaultLoginTimeout).
	LoginTimeout time.Duration
	// IdleTimeout ends a logged-in session that does not send a whole command line within it
	// (outside IDLE). Default: 30 minutes.
	IdleTimeout time.Duration
	// DefaultQuota is the storage quota, in octets, of an account without its own
	// (store.Account.Quota); 0: none (RFC 9208, see quota.go).
	DefaultQuota int64
	// MetaCacheMessages is how many messages' flags, MODSEQ, date and size the server keeps in
	// memory for FETCH (metacache.go); 0: DefaultMetaCacheMessages.
	MetaCacheMessages int

	nextConn atomic.Uint64
	// largeWriters holds the write buffers FETCH borrows for message bodies (see
	// session.withLargeWriteBuffer).
	largeWriters sync.Pool

	setup sync.Once
	conns netserver.Server // accept loop, limits, command deadlines, shutdown
	meta  *metaCache       // message metadata for FETCH, shared by the sessions
}

func (s *Server) init() {
	s.setup.Do(func() {
		s.meta = newMetaCache(s.Store, s.MetaCacheMessages)
		s.conns = netserver.Server{
			MaxConnections: s.MaxConnections,
			MaxPerAddress:  s.MaxPerAddress,
			// RFC 9051 §7.1: UNAVAILABLE, a temporary failure; the client may retry.
			Refused:           "* BYE [UNAVAILABLE] too many connections, try again later\r\n",
			RefusedPerAddress: "* BYE [UNAVAILABLE] too many connections from your address, try again later\r\n",
			ShuttingDown:      "* BYE server shutting down\r\n",
			LoginTimeout:      s.LoginTimeout,
			IdleTimeout:       s.idleTimeout(),
			Handle:            s.handle,
			Metrics:           s.Metrics.connections(),
		}
	})
}

func (s *Server) appendLimit() int64 {
	if s.AppendLimit > 0 {
		return s.AppendLimit
	}
	return DefaultAppendLimit
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

// Serve accepts plain connections on l (port 143: STARTTLS available when TLSConfig is set)
// until Shutdown; then it returns nil.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	return s.conns.Serve(l, false)
}

// ServeTLS accepts implicit-TLS connections on l (port 993, RFC 8314) until Shutdown.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.TLSConfig == nil {
		return errors.New("imap: ServeTLS without a TLS configuration")
	}
	s.init()
	return s.conns.Serve(l, true)
}

// handle runs one connection.
func (s *Server) handle(c *netserver.Conn, implicitTLS bool) {
	id := "imap-" + strconv.FormatUint(s.nextConn.Add(1), 36)
	sess := newSession(s, c, id)
	if implicitTLS {
		if err := sess.startTLS(); err != nil {
			sess.logger.Debug("TLS handshake failed", "err", err)
			return
		}
	}
	sess.run()
}

// Shutdown stops accepting, sends "* BYE" to every session as soon as it is between commands
// (at once for one that waits for a command or is in IDLE), and waits for them to end until
// ctx is done; then it closes the connections left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	return s.conns.Shutdown(ctx)
}
