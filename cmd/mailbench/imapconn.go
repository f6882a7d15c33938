package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// This file is mailbench's own small IMAP client: just enough of RFC 9051 (and RFC 3501, which
// Dovecot and older servers speak) to log in, run a command and read its responses, literals
// included, APPEND a message and hold an IDLE (RFC 2177). It is written here rather than taken
// from a library so that the load is the same, byte for byte, whichever server it drives, and so
// that reading a 100,000-message FETCH costs the client no parsing beyond finding each
// response's end.

const (
	// imapDialTimeout bounds connecting, the TLS handshake and the greeting.
	imapDialTimeout = 30 * time.Second
	// imapReadBuffer is the size of the connection's read buffer: large enough that a FETCH of
	// a whole mailbox is read in few system calls.
	imapReadBuffer = 64 << 10
	// maxLiteral bounds a literal in a response, in octets.
	maxLiteral = 1 << 30
)

// imapServer says how to reach and log in to an IMAP server; the imap and fill modes share it.
type imapServer struct {
	Addr     string // host:port
	User     string
	Password string
	TLS      bool // implicit TLS (port 993 style)
	StartTLS bool // STARTTLS before logging in (RFC 9051 §6.2.1)
	Insecure bool // with TLS or StartTLS, do not verify the server certificate
	// Time allowed for one command, from sending it to its tagged response. Default: 5m.
	Timeout time.Duration
}

// addFlags declares the flags of s on f.
func (s *imapServer) addFlags(f *pflag.FlagSet) {
	f.StringVar(&s.Addr, "addr", "", "server address, HOST:PORT")
	f.StringVar(&s.User, "user", "", "user name to log in with")
	f.StringVar(&s.Password, "password", "", "password")
	f.BoolVar(&s.TLS, "tls", false, "connect with implicit TLS (IMAPS)")
	f.BoolVar(&s.StartTLS, "starttls", false, "issue STARTTLS before logging in")
	f.BoolVar(&s.Insecure, "insecure", false, "with --tls or --starttls, do not verify the server certificate")
	f.DurationVar(&s.Timeout, "timeout", 5*time.Minute, "time allowed for one command")
}

// validate refuses connection settings that cannot work.
func (s *imapServer) validate() error {
	if _, _, err := net.SplitHostPort(s.Addr); err != nil {
		return fmt.Errorf("--addr %q: want HOST:PORT", s.Addr)
	}
	switch {
	case s.User == "":
		return errors.New("--user is required")
	case !quotable(s.User):
		return errors.New("--user: only printable ASCII is supported")
	case !quotable(s.Password):
		return errors.New("--password: only printable ASCII is supported")
	case s.TLS && s.StartTLS:
		return errors.New("--tls and --starttls exclude each other")
	case s.Insecure && !s.TLS && !s.StartTLS:
		return errors.New("--insecure only applies with --tls or --starttls")
	case s.Timeout <= 0:
		return fmt.Errorf("--timeout %s: must be positive", s.Timeout)
	}
	return nil
}

// quotable reports whether s can be sent as an IMAP quoted string (RFC 9051 §4.3): printable
// ASCII only, so no literal is needed.
func quotable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// quote returns s as an IMAP quoted string.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')
	return b.String()
}

// imapStatusError is a tagged NO or BAD.
type imapStatusError struct {
	command string // the command without its tag, shortened
	reply   string // the tagged response without its tag
}

func (e *imapStatusError) Error() string { return e.command + ": " + e.reply }

// imapConn is one client connection. It is not safe for concurrent use.
type imapConn struct {
	conn    net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
	tag     int
	resp    []byte // the last response read, reused
	read    int64  // bytes of response read since the last command was sent
}

// dialIMAP connects to s, reads the greeting, does STARTTLS if asked and logs in.
func dialIMAP(ctx context.Context, s *imapServer) (*imapConn, error) {
	dialer := net.Dialer{Timeout: imapDialTimeout}
	conn, err := dialer.DialContext(ctx, "tcp", s.Addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(s.Addr) // checked by validate
	tlsConfig := &tls.Config{ServerName: host, InsecureSkipVerify: s.Insecure}
	if s.TLS {
		conn = tls.Client(conn, tlsConfig)
	}
	c := newIMAPConn(conn, s.Timeout)
	if err := c.greet(s, tlsConfig); err != nil {
		// The connection is useless; its Close error adds nothing to err.
		_ = c.conn.Close()
		return nil, err
	}
	return c, nil
}

func newIMAPConn(conn net.Conn, timeout time.Duration) *imapConn {
	return &imapConn{
		conn:    conn,
		r:       bufio.NewReaderSize(conn, imapReadBuffer),
		w:       bufio.NewWriter(conn),
		timeout: timeout,
	}
}

// greet reads the greeting (RFC 9051 §7.1.1), upgrades with STARTTLS if asked and logs in.
func (c *imapConn) greet(s *imapServer, tlsConfig *tls.Config) error {
	_ = c.conn.SetDeadline(time.Now().Add(imapDialTimeout))
	greeting, err := c.readResponse()
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	if !bytes.HasPrefix(greeting, []byte("* OK")) {
		return fmt.Errorf("greeting: %q", strings.TrimSpace(string(greeting)))
	}
	if s.StartTLS {
		if err := c.run("STARTTLS", nil); err != nil {
			return err
		}
		tc := tls.Client(c.conn, tlsConfig)
		_ = tc.SetDeadline(time.Now().Add(imapDialTimeout))
		if err := tc.Handshake(); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
		c.conn, c.r, c.w = tc, bufio.NewReaderSize(tc, imapReadBuffer), bufio.NewWriter(tc)
	}
	// RFC 9051 §6.2.3: LOGIN works on every server; AUTHENTICATE PLAIN would need SASL-IR to
	// cost the same round trip.
	return c.run("LOGIN "+quote(s.User)+" "+quote(s.Password), nil)
}

// run sends command with a new tag and reads the responses up to its tagged one, passing each
// untagged response (with its CRLF, literals inline) to untagged when it is not nil. The slice
// is valid only during the call. It returns an *imapStatusError for NO and BAD.
func (c *imapConn) run(command string, untagged func(resp []byte)) error {
	tag, err := c.send(command)
	if err != nil {
		return err
	}
	return c.finish(tag, command, untagged)
}

// send writes command with a new tag and returns the tag.
func (c *imapConn) send(command string) (string, error) {
	c.tag++
	tag := "m" + strconv.Itoa(c.tag)
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	c.read = 0
	c.w.WriteString(tag)
	c.w.WriteByte(' ')
	c.w.WriteString(command)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return "", fmt.Errorf("%s: %w", short(command), err)
	}
	return tag, nil
}

// finish reads responses to the tagged one of tag.
func (c *imapConn) finish(tag, command string, untagged func(resp []byte)) error {
	for {
		resp, err := c.readResponse()
		if err != nil {
			return fmt.Errorf("%s: %w", short(command), err)
		}
		if rest, ok := bytes.CutPrefix(resp, []byte(tag+" ")); ok {
			if bytes.HasPrefix(rest, []byte("OK")) {
				return nil
			}
			return &imapStatusError{command: short(command), reply: strings.TrimSpace(string(rest))}
		}
		if bytes.HasPrefix(resp, []byte("* BYE")) && command != "LOGOUT" {
			return fmt.Errorf("%s: server said %s", short(command), strings.TrimSpace(string(resp)))
		}
		if untagged != nil && bytes.HasPrefix(resp, []byte("* ")) {
			untagged(resp)
		}
	}
}

// appendMessage stores msg in mailbox with APPEND (RFC 9051 §6.3.12), sending the message as a
// synchronizing literal once the server asks for it.
func (c *imapConn) appendMessage(mailbox string, date time.Time, msg []byte) error {
	command := fmt.Sprintf("APPEND %s %q {%d}", quote(mailbox), date.Format("02-Jan-2006 15:04:05 -0700"), len(msg))
	tag, err := c.send(command)
	if err != nil {
		return err
	}
	resp, err := c.readResponse()
	if err != nil {
		return fmt.Errorf("%s: %w", short(command), err)
	}
	if !bytes.HasPrefix(resp, []byte("+")) {
		// Refused before the literal: the tagged NO or BAD is this response.
		reply := bytes.TrimPrefix(resp, []byte(tag+" "))
		return &imapStatusError{command: short(command), reply: strings.TrimSpace(string(reply))}
	}
	c.w.Write(msg)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("%s: %w", short(command), err)
	}
	return c.finish(tag, command, nil)
}

// idle starts IDLE (RFC 2177) and returns once the server has said it idles. The server may
// then send untagged responses at any time; they wait in the socket until done reads them.
func (c *imapConn) idle() (tag string, err error) {
	if tag, err = c.send("IDLE"); err != nil {
		return "", err
	}
	for {
		resp, err := c.readResponse()
		if err != nil {
			return "", fmt.Errorf("IDLE: %w", err)
		}
		if bytes.HasPrefix(resp, []byte("+")) {
			// No deadline while idling: the caller decides how long it lasts.
			_ = c.conn.SetDeadline(time.Time{})
			return tag, nil
		}
		if bytes.HasPrefix(resp, []byte(tag+" ")) {
			return "", &imapStatusError{command: "IDLE", reply: strings.TrimSpace(string(resp[len(tag)+1:]))}
		}
	}
}

// done ends the IDLE started with tag.
func (c *imapConn) done(tag string) error {
	_ = c.conn.SetDeadline(time.Now().Add(c.timeout))
	c.w.WriteString("DONE\r\n")
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("DONE: %w", err)
	}
	return c.finish(tag, "IDLE", nil)
}

// logout ends the session (RFC 9051 §6.1.3) and closes the connection.
func (c *imapConn) logout() error {
	err := c.run("LOGOUT", nil)
	if cerr := c.conn.Close(); err == nil {
		err = cerr
	}
	return err
}

// readResponse reads one response: a line, and when it ends with a literal's announcement
// ({n} or {n+}, RFC 9051 §4.3), the literal's octets and the rest of the response after it.
// The result is valid until the next call.
func (c *imapConn) readResponse() ([]byte, error) {
	c.resp = c.resp[:0]
	for {
		start := len(c.resp)
		for {
			chunk, err := c.r.ReadSlice('\n')
			c.resp = append(c.resp, chunk...)
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				if err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
		}
		c.read += int64(len(c.resp) - start)
		n, ok := literalLength(c.resp[start:])
		if !ok {
			return c.resp, nil
		}
		if n > maxLiteral {
			return nil, fmt.Errorf("literal of %d octets: larger than mailbench accepts", n)
		}
		at := len(c.resp)
		c.resp = slices.Grow(c.resp, int(n))[:at+int(n)]
		if _, err := io.ReadFull(c.r, c.resp[at:]); err != nil {
			return nil, fmt.Errorf("literal of %d octets: %w", n, err)
		}
		c.read += n
	}
}

// literalLength returns the length of the literal announced at the end of line, if any.
func literalLength(line []byte) (int64, bool) {
	line = bytes.TrimSuffix(line, []byte("\r\n"))
	if !bytes.HasSuffix(line, []byte("}")) {
		return 0, false
	}
	open := bytes.LastIndexByte(line, '{')
	if open < 0 {
		return 0, false
	}
	digits := bytes.TrimSuffix(line[open+1:len(line)-1], []byte("+"))
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// short returns command as it may appear in an error message: no password, not too long.
func short(command string) string {
	if strings.HasPrefix(command, "LOGIN ") {
		return "LOGIN"
	}
	if len(command) > 60 {
		return command[:60] + "..."
	}
	return command
}
