package imapserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"posthorn/internal/auth"
	"posthorn/internal/blob"
	"posthorn/internal/delivery"
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
	Blobs     *blob.FS
	Committer *delivery.Committer // makes APPENDed messages durable
	Auth      *auth.Authenticator // LOGIN and AUTHENTICATE, with throttling
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
	// IdleTimeout ends a session silent for that long outside IDLE. Default: 30 minutes.
	IdleTimeout time.Duration
	// DefaultQuota is the storage quota, in octets, of an account without its own
	// (store.Account.Quota); 0: none (RFC 9208, see quota.go).
	DefaultQuota int64

	nextConn atomic.Uint64
	active   atomic.Int64
	// largeWriters holds the write buffers FETCH borrows for message bodies (see
	// session.withLargeWriteBuffer).
	largeWriters sync.Pool

	mu        sync.Mutex
	sessions  map[*session]struct{}
	listeners map[net.Listener]struct{}
	closing   bool
	done      chan struct{} // closed when Shutdown starts
	wg        sync.WaitGroup
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("imap server closed")

func (s *Server) init() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions == nil {
		s.sessions = map[*session]struct{}{}
		s.listeners = map[net.Listener]struct{}{}
		s.done = make(chan struct{})
	}
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
	return s.serve(l, false)
}

// ServeTLS accepts implicit-TLS connections on l (port 993, RFC 8314) until Shutdown.
func (s *Server) ServeTLS(l net.Listener) error {
	if s.TLSConfig == nil {
		return errors.New("imap: ServeTLS without a TLS configuration")
	}
	return s.serve(l, true)
}

func (s *Server) serve(l net.Listener, implicitTLS bool) error {
	s.init()
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
	}()
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			return err
		}
		delay = 0
		s.mu.Lock()
		closing := s.closing
		if !closing {
			s.wg.Add(1) // under mu, so never after Shutdown began to wait
		}
		s.mu.Unlock()
		if closing {
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = fmt.Fprintf(c, "* BYE server shutting down\r\n")
			_ = c.Close()
			continue
		}
		if s.MaxConnections > 0 && s.active.Load() >= int64(s.MaxConnections) {
			s.wg.Done()
			s.Metrics.connectionRefused()
			_ = c.SetWriteDeadline(time.Now().Add(time.Second))
			_, _ = fmt.Fprintf(c, "* BYE [UNAVAILABLE] too many connections, try again later\r\n")
			_ = c.Close()
			continue
		}
		s.active.Add(1)
		s.Metrics.connectionOpened()
		go func() {
			defer func() {
				s.active.Add(-1)
				s.Metrics.connectionClosed()
				s.wg.Done()
			}()
			s.handle(c, implicitTLS)
		}()
	}
}

// handle runs one connection.
func (s *Server) handle(c net.Conn, implicitTLS bool) {
	id := "imap-" + strconv.FormatUint(s.nextConn.Add(1), 36)
	sess := newSession(s, c, id)
	if !s.addSession(sess) {
		_ = c.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = fmt.Fprintf(c, "* BYE server shutting down\r\n")
		_ = c.Close()
		return
	}
	defer s.removeSession(sess)
	if implicitTLS {
		if err := sess.startTLS(); err != nil {
			sess.logger.Debug("TLS handshake failed", "err", err)
			_ = c.Close()
			return
		}
	}
	sess.run()
}

func (s *Server) addSession(sess *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.sessions[sess] = struct{}{}
	return true
}

func (s *Server) removeSession(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// Shutdown stops accepting, sends "* BYE" to every session as soon as it is between commands
// (at once for one that waits for a command or is in IDLE), and waits for them to end until
// ctx is done; then it closes the connections left.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	if !s.closing {
		s.closing = true
		close(s.done)
	}
	for l := range s.listeners {
		_ = l.Close()
	}
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(finished)
	}()
	ticker := time.NewTicker(20 * time.Millisecond)
	defer ticker.Stop()
	for {
		s.byeToIdle()
		select {
		case <-finished:
			return nil
		case <-ctx.Done():
			s.mu.Lock()
			for sess := range s.sessions {
				_ = sess.conn.Close()
			}
			s.mu.Unlock()
			<-finished
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// byeToIdle ends every session that waits for a command.
func (s *Server) byeToIdle() {
	s.mu.Lock()
	sessions := make([]*session, 0, len(s.sessions))
	for sess := range s.sessions {
		sessions = append(sessions, sess)
	}
	s.mu.Unlock()
	for _, sess := range sessions {
		sess.byeIfIdle()
	}
}

// shuttingDown is closed when Shutdown starts.
func (s *Server) shuttingDown() <-chan struct{} { return s.done }
