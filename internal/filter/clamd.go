package filter

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Clamd is a client of ClamAV's daemon, speaking its INSTREAM command (clamd(8)): after
// "zINSTREAM\0" the data follows in chunks, each a 4-byte big-endian length and that many
// octets, ended by a zero length; clamd answers one NUL-terminated line, "stream: OK",
// "stream: NAME FOUND" or "... ERROR".
//
// The commands run inside IDSESSION sessions (clamd(8)), so that a scan costs no new
// connection: a session opened with "zIDSESSION\0" takes one command after another, and clamd
// prefixes each reply with the command's number in the session ("1: stream: OK"). A session
// runs one scan at a time and waits for its reply before the next command, as clamd requires;
// between scans it waits in a small pool of idle sessions. A session that clamd answered with
// an error, that timed out, or that was idle for longer than maxSessionIdle is closed rather
// than reused. clamd closes idle sessions itself (after its ReadTimeout, 120 s by default) and
// when it restarts: a scan on a reused session that ends without a reply is sent again, once,
// on a new connection.
type Clamd struct {
	// Address is "unix:/path/to/clamd.ctl" or "host:port".
	Address string
	// Timeout bounds one scan, connection included. Default: 30 s.
	Timeout time.Duration
	// MaxSize is the largest message sent to clamd, in octets; a larger one is not scanned
	// (reason "virus-scan-skipped"), since clamd refuses streams over its StreamMaxLength
	// (25 MiB in Debian's clamd.conf) and a refusal would make the sender retry forever.
	// Default: 25 MiB.
	MaxSize int64
	// MaxIdle is how many idle sessions are kept for later scans. Default: 8.
	MaxIdle int
	// AttachmentsOnly sends clamd only the messages with a part that can carry malware (see
	// carriesFiles in clamdscan.go), whole; a message of text alone is not scanned. false: every
	// message is sent.
	AttachmentsOnly bool

	mu   sync.Mutex
	idle []*clamdSession // most recently used last
}

func (c *Clamd) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return 25 << 20
}

func (c *Clamd) maxIdle() int {
	if c.MaxIdle > 0 {
		return c.MaxIdle
	}
	return 8
}

// chunkSize is the length of each INSTREAM chunk.
const chunkSize = 64 << 10

// maxSessionIdle is how long an idle session is kept: well within clamd's ReadTimeout, after
// which clamd closes it.
const maxSessionIdle = 10 * time.Second

// ErrClamdUnavailable wraps every failure to get a scan result: clamd down, too slow, or
// answering with an error (such as its StreamMaxLength).
var ErrClamdUnavailable = errors.New("clamd unavailable")

// clamdSession is one IDSESSION connection.
type clamdSession struct {
	conn net.Conn
	w    *bufio.Writer
	r    *bufio.Reader
	sent int       // commands sent in the session; the next one's number is sent+1
	used time.Time // when its last reply came
}

// errNoReply is a session that ended before answering: clamd closed it.
var errNoReply = errors.New("no reply")

// Scan sends r to clamd and returns the name of the signature found, "" when clean.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (string, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var start int64
	seeker, canRetry := r.(io.Seeker)
	if canRetry {
		var err error
		if start, err = seeker.Seek(0, io.SeekCurrent); err != nil {
			canRetry = false
		}
	}
	sess := c.idleSession()
	reused := sess != nil
	reply, err := c.scanOn(ctx, sess, r)
	if err != nil && reused && canRetry && errors.Is(err, errNoReply) && ctx.Err() == nil {
		// clamd closed the idle session: the message goes again, on a new one.
		if _, serr := seeker.Seek(start, io.SeekStart); serr == nil {
			reply, err = c.scanOn(ctx, nil, r)
		}
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrClamdUnavailable, err)
	}
	return parseReply(reply)
}

// scanOn runs INSTREAM on sess, or on a new session when sess is nil, and returns clamd's reply
// without the command's number. The session goes back to the pool after a scan result, and is
// closed otherwise.
func (c *Clamd) scanOn(ctx context.Context, sess *clamdSession, r io.Reader) (string, error) {
	if sess == nil {
		var err error
		if sess, err = c.newSession(ctx); err != nil {
			return "", err
		}
	}
	deadline, _ := ctx.Deadline()
	if err := sess.conn.SetDeadline(deadline); err != nil {
		_ = sess.conn.Close()
		return "", err
	}
	// A cancelled context ends the scan at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = sess.conn.SetDeadline(time.Unix(1, 0)) })
	reply, err := sess.instream(r)
	stopped := stop()
	if err == nil && stopped {
		if _, perr := parseReply(reply); perr == nil {
			c.release(sess)
			return reply, nil
		}
	}
	_ = sess.conn.Close()
	return reply, err
}

// newSession connects to clamd and starts an IDSESSION.
func (c *Clamd) newSession(ctx context.Context) (*clamdSession, error) {
	var d net.Dialer
	var conn net.Conn
	var err error
	if path, ok := strings.CutPrefix(c.Address, "unix:"); ok {
		conn, err = d.DialContext(ctx, "unix", path)
	} else {
		conn, err = d.DialContext(ctx, "tcp", c.Address)
	}
	if err != nil {
		return nil, err
	}
	sess := &clamdSession{conn: conn, w: bufio.NewWriterSize(conn, chunkSize+4), r: bufio.NewReaderSize(conn, 4096)}
	if _, err := sess.w.WriteString("zIDSESSION\x00"); err != nil {
		_ = conn.Close()
		return nil, err
	}
	return sess, nil
}

// idleSession takes the most recently used idle session, closing those idle for too long; nil
// when there is none.
func (c *Clamd) idleSession() *clamdSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.idle) > 0 {
		sess := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if time.Since(sess.used) < maxSessionIdle {
			return sess
		}
		_ = sess.conn.Close()
	}
	return nil
}

// release puts a session that answered back into the pool, or closes it when the pool is full.
func (c *Clamd) release(sess *clamdSession) {
	sess.used = time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.idle) >= c.maxIdle() {
		_ = sess.conn.Close()
		return
	}
	c.idle = append(c.idle, sess)
}

// Close closes the idle sessions. Scans may still follow; they open new ones.
func (c *Clamd) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle = nil
	c.mu.Unlock()
	var errs []error
	for _, sess := range idle {
		errs = append(errs, sess.conn.Close())
	}
	return errors.Join(errs...)
}

// instream runs the INSTREAM command in the session and returns clamd's reply without its NUL
// and its number.
func (s *clamdSession) instream(r io.Reader) (string, error) {
	s.sent++
	if _, err := s.w.WriteString("zINSTREAM\x00"); err != nil {
		return "", err
	}
	buf := make([]byte, chunkSize)
	var length [4]byte
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			binary.BigEndian.PutUint32(length[:], uint32(n))
			if _, err := s.w.Write(length[:]); err != nil {
				return "", err
			}
			if _, err := s.w.Write(buf[:n]); err != nil {
				// clamd closes the connection after its size limit: its reply says why.
				return s.replyAfter(err)
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return "", fmt.Errorf("read message: %w", rerr)
		}
	}
	binary.BigEndian.PutUint32(length[:], 0)
	if _, err := s.w.Write(length[:]); err != nil {
		return s.replyAfter(err)
	}
	if err := s.w.Flush(); err != nil {
		return s.replyAfter(err)
	}
	return s.reply()
}

// replyAfter returns the reply clamd sent before it closed the connection, or the write error
// when there is none.
func (s *clamdSession) replyAfter(werr error) (string, error) {
	if reply, err := s.reply(); err == nil {
		return reply, nil
	}
	return "", fmt.Errorf("%w: %w", errNoReply, werr)
}

// reply reads clamd's NUL-terminated reply line (at most 4 KiB) to the last command and
// removes its number.
func (s *clamdSession) reply() (string, error) {
	line, err := s.r.ReadSlice(0)
	if errors.Is(err, bufio.ErrBufferFull) {
		return "", fmt.Errorf("read reply: %w", err)
	}
	if err != nil {
		// The session ended, perhaps after a line that is no reply: clamd's "COMMAND READ
		// TIMED OUT" when it closes an idle session.
		return "", fmt.Errorf("%w (%q): %w", errNoReply, line, err)
	}
	text := strings.TrimRight(string(line), "\x00\r\n")
	number, rest, ok := strings.Cut(text, ": ")
	if !ok || number != strconv.Itoa(s.sent) {
		return "", fmt.Errorf("reply %q to command %d", text, s.sent)
	}
	return rest, nil
}

// parseReply reads "stream: OK", "stream: Eicar-Signature FOUND" or an ERROR line.
func parseReply(reply string) (string, error) {
	rest, _ := strings.CutPrefix(reply, "stream: ")
	switch {
	case rest == "OK":
		return "", nil
	case strings.HasSuffix(rest, " FOUND"):
		return strings.TrimSuffix(rest, " FOUND"), nil
	}
	return "", fmt.Errorf("%w: clamd answered %q", ErrClamdUnavailable, reply)
}
