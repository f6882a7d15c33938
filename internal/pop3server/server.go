package pop3server

import (
	"bufio"
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
	"posthorn/internal/netserver"
	"posthorn/internal/store"
)

const (
	// DefaultIdleTimeout is how long a session may stay silent: RFC 1939 §3 asks for at least
	// 10 minutes.
	DefaultIdleTimeout = 10 * time.Minute
	// writeTimeout bounds how long one command's response may take to be written: a client
	// that stops reading does not hold its session (and its maildrop lock) forever.
	writeTimeout = 5 * time.Minute
	// bodyBufferSize is the size of the read and the write buffer of a message being sent
	// (RETR, TOP); these buffers are pooled, so an idle session holds none.
	bodyBufferSize = 64 << 10
)

// Server is a POP3 server. Set the fields, then call Serve or ServeTLS.
type Server struct {
	Hostname  string // in the greeting
	Store     store.Store
	Bodies    bodystore.Bodies           // message bodies: RETR and TOP read them, QUIT removes them
	Auth      *credentials.Authenticator // USER/PASS and AUTH, with throttling
	Logger    *slog.Logger
	Metrics   *Metrics    // nil records nothing
	TLSConfig *tls.Config // nil: no STLS and no ServeTLS
	// AllowInsecureAuth permits USER/PASS and AUTH PLAIN without TLS on connections from a
	// loopback address (for a trial server and tests). Elsewhere, or when false, they need TLS
	// (RFC 2595 §4) and CAPA lists neither USER nor SASL PLAIN until then.
	AllowInsecureAuth bool
	// MaxConnections refuses connections over it with "-ERR [SYS/TEMP]" at once; 0 means no
	// limit.
	MaxConnections int
	// MaxPerAddress refuses a connection from a client address (an IPv4 address, an IPv6 /64)
	// that holds that many already, with "-ERR [IN-USE]"; 0 means no limit.
	MaxPerAddress int
	// LoginTimeout ends a session that has not logged in and does not send a whole command
	// line within it, deleting nothing. Default: 60 seconds (netserver.DefaultLoginTimeout).
	LoginTimeout time.Duration
	// IdleTimeout ends a logged-in session that does not send a whole command line within it,
	// deleting nothing. Default: 10 minutes.
	IdleTimeout time.Duration

	// Leases, when set, holds every maildrop lock in the store as well, for several nodes
	// sharing one PostgreSQL: one session of all of them holds a maildrop, and a login on
	// another node gets "-ERR [IN-USE]". nil: the locks are this server's memory only (one
	// node, SQLite).
	Leases store.Leases
	// MaildropLeaseTTL is how long a maildrop lock in Leases outlives a node that stops
	// renewing it (one that died); a session renews it every third of it. Default: 1 minute.
	MaildropLeaseTTL time.Duration

	nextConn atomic.Uint64
	setup    sync.Once
	conns    netserver.Server
	// Buffers of bodyBufferSize for sending messages.
	bodyReaders, bodyWriters sync.Pool // *bufio.Reader, *bufio.Writer

	locksMu sync.Mutex
	locks   map[int64]struct{} // accounts with a session in the TRANSACTION state
}

func (s *Server) init() {
	s.setup.Do(func() {
		s.conns = netserver.Server{
			MaxConnections: s.MaxConnections,
			MaxPerAddress:  s.MaxPerAddress,
			Refused:        "-ERR [SYS/TEMP] too many connections, try again later\r\n",
			// RFC 2449 §8.1.1 IN-USE; RFC 3206 §4 SYS/TEMP: a temporary refusal.
			RefusedPerAddress: "-ERR [IN-USE] too many connections from your address, try again later\r\n",
			ShuttingDown:      "-ERR [SYS/TEMP] server shutting down\r\n",
			LoginTimeout:      s.LoginTimeout,
			IdleTimeout:       s.idleTimeout(),
			Handle:            s.handle,
			Metrics:           s.Metrics.connections(),
		}
		s.locks = map[int64]struct{}{}
		s.bodyReaders.New = func() any { return bufio.NewReaderSize(nil, bodyBufferSize) }
		s.bodyWriters.New = func() any { return bufio.NewWriterSize(nil, bodyBufferSize) }
	})
}

func (s *Server) idleTimeout() time.Duration {
	if s.IdleTimeout > 0 {
		return s.IdleTimeout
	}
	return DefaultIdleTimeout
}

// Serve accepts plain connections on l (port 110: STLS available when TLSConfig is set) until
// Shutdown; then it returns nil.
func (s *Server) Serve(l net.Listener) error {
	s.init()
	return s.conns.Serve(l, false)
}

// ServeTLS accepts implicit-TLS connections on l (port 995, RFC 8314) until Shutdown.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.TLSConfig == nil {
		return errors.New("pop3: ServeTLS without a TLS configuration")
	}
	s.init()
	return s.conns.Serve(l, true)
}

// Shutdown stops accepting, ends every session that waits for a command with "-ERR
// [SYS/TEMP]" (deleting nothing: only QUIT deletes), lets the others finish their command,
// and closes what is left when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	return s.conns.Shutdown(ctx)
}

// handle runs one connection.
func (s *Server) handle(c *netserver.Conn, implicitTLS bool) {
	id := "pop3-" + strconv.FormatUint(s.nextConn.Add(1), 36)
	sess := newSession(s, c, id)
	if implicitTLS {
		if err := sess.startTLS(); err != nil {
			sess.logger.Debug("TLS handshake failed", "err", err)
			return
		}
	}
	sess.run()
}

// lock takes the maildrop lock of an account (RFC 1939 §4: one session at a time may hold
// it); false when another session of this server holds it.
func (s *Server) lock(accountID int64) bool {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	if _, held := s.locks[accountID]; held {
		return false
	}
	s.locks[accountID] = struct{}{}
	return true
}

func (s *Server) unlock(accountID int64) {
	s.locksMu.Lock()
	delete(s.locks, accountID)
	s.locksMu.Unlock()
}

// removeBlobs deletes message bodies nothing refers to any more. A failure only leaves a file
// behind, which the orphan sweep finds later.
func (s *Server) removeBlobs(ctx context.Context, logger *slog.Logger, ids []string) {
	for _, id := range ids {
		if err := s.Bodies.Remove(ctx, id); err != nil {
			logger.Warn("remove message body", "blob", id, "err", err)
		}
	}
}
