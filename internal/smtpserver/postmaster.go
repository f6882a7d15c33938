package smtpserver

import (
	"bytes"
	"context"
	"net"
	"strconv"
	"strings"
	"time"
)

// RFC 5321 §4.5.1: a server must accept "RCPT TO:<Postmaster>" (no domain, any case) as the
// postmaster of the server's domain. go-smtp's RCPT parser refuses a path without a domain
// with 501 5.5.2 before the session sees it, and offers no hook for it, so postmasterConn, laid
// over the client connection under go-smtp, rewrites that one command on the way in to
// "RCPT TO:<postmaster@PRIMARY>" (see primaryDomain), which the session then resolves like any
// other address. It follows the protocol just far enough to touch nothing but command lines:
// the message of DATA (up to the lone "." line) and the chunks of BDAT go through as they are.
// After STARTTLS the bytes are TLS records it cannot read, and it lets them through too: the
// bare postmaster is understood in plain-text sessions (where an MX receives it from the
// programs that test RFC 5321) and refused by go-smtp's parser after STARTTLS and on implicit TLS.
type postmasterConn struct {
	net.Conn
	primary func() string // the domain of the postmaster; "" leaves the command alone

	line  []byte // a command line being collected
	out   []byte // rewritten bytes not yet returned by Read
	mode  int
	skip  int64 // bytes of a BDAT chunk still to pass
	ended int   // in DATA: how much of endOfData the last bytes match
}

// endOfData ends the message of DATA (RFC 5321 §4.1.1.4); the CRLF in front of the dot is
// that of the message's last line, or of the DATA command for an empty message.
const endOfData = "\r\n.\r\n"

const (
	modeCommand = iota
	modeData
	modeChunk
	modeOpaque // after STARTTLS
)

// maxCommandLine bounds a collected command line; a longer one passes unchanged.
const maxCommandLine = 4096

// Read returns the client's bytes with a bare postmaster recipient rewritten.
func (c *postmasterConn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		n, err := c.Conn.Read(p)
		c.feed(p[:n])
		if len(c.out) == 0 && err != nil {
			// What is collected of an unfinished line goes out with the error.
			c.out, c.line = append(c.out, c.line...), nil
			if len(c.out) == 0 {
				return 0, err
			}
		}
	}
	n := copy(p, c.out)
	if n == len(c.out) {
		c.out = c.out[:0] // keep the buffer for the next read
	} else {
		c.out = c.out[n:]
	}
	return n, nil
}

// feed moves b through the protocol state into c.out.
func (c *postmasterConn) feed(b []byte) {
	for len(b) > 0 {
		switch c.mode {
		case modeOpaque:
			c.out = append(c.out, b...)
			return
		case modeChunk:
			n := int64(len(b))
			if n > c.skip {
				n = c.skip
			}
			c.out = append(c.out, b[:n]...)
			b = b[n:]
			if c.skip -= n; c.skip == 0 {
				c.mode = modeCommand
			}
		case modeData:
			n := c.scanData(b)
			c.out = append(c.out, b[:n]...)
			b = b[n:]
		default:
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.line = append(c.line, b...)
				if len(c.line) > maxCommandLine {
					c.out, c.line = append(c.out, c.line...), nil
				}
				return
			}
			line := append(c.line, b[:i+1]...)
			c.line, b = nil, b[i+1:]
			c.out = append(c.out, c.command(line)...)
		}
	}
}

// scanData looks for the end of the message of DATA in b and returns how many bytes of b
// belong to the message (all of b, or up to and with the end), switching to modeCommand at its
// end. c.ended is how much of endOfData the bytes before b end with (the state of a
// Knuth-Morris-Pratt search): the first bytes are stepped through it until it is 0, the rest
// searched with bytes.Index, and the state set again from the bytes b ends with.
func (c *postmasterConn) scanData(b []byte) int {
	i := 0
	for ; i < len(b) && c.ended > 0; i++ {
		switch {
		case b[i] == endOfData[c.ended]:
			if c.ended++; c.ended == len(endOfData) {
				c.mode, c.ended = modeCommand, 0
				return i + 1
			}
		case b[i] == '\r':
			c.ended = 1
		default:
			c.ended = 0
		}
	}
	if j := bytes.Index(b[i:], []byte(endOfData)); j >= 0 {
		c.mode = modeCommand
		return i + j + len(endOfData)
	}
	for k := len(endOfData) - 1; k > 0 && c.ended == 0; k-- {
		if len(b)-i >= k && bytes.HasSuffix(b[i:], []byte(endOfData[:k])) {
			c.ended = k
		}
	}
	return len(b)
}

// command returns a complete command line as it goes to go-smtp, and sets the mode for what
// follows it.
func (c *postmasterConn) command(line []byte) []byte {
	verb, rest, _ := strings.Cut(strings.TrimRight(string(line), "\r\n"), " ")
	switch strings.ToUpper(verb) {
	case "DATA":
		// Whatever the reply: if DATA is refused, the commands that follow pass unchanged
		// until a line "." (a rewrite missed), which is better than reading a message as
		// commands (a message changed).
		c.mode, c.ended = modeData, 2
	case "BDAT":
		// RFC 3030 §2: "BDAT" SP chunk-size [SP "LAST"]; go-smtp reads (or discards) the
		// chunk whatever its reply.
		size, _, _ := strings.Cut(rest, " ")
		if n, err := strconv.ParseInt(size, 10, 64); err == nil && n > 0 {
			c.mode, c.skip = modeChunk, n
		}
	case "STARTTLS":
		c.mode = modeOpaque
	case "RCPT":
		if rewritten, ok := rewritePostmaster(string(line), c.primary); ok {
			return []byte(rewritten)
		}
	}
	return line
}

// rewritePostmaster turns "RCPT TO:<Postmaster>..." (RFC 5321 §4.1.1.3, any case, spaces
// after the colon allowed as go-smtp allows them) into "RCPT TO:<postmaster@DOMAIN>...".
func rewritePostmaster(line string, primary func() string) (string, bool) {
	const prefix = "RCPT TO:"
	if len(line) < len(prefix) || !strings.EqualFold(line[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimLeft(line[len(prefix):], " ")
	const path = "<postmaster>"
	if len(rest) < len(path) || !strings.EqualFold(rest[:len(path)], path) {
		return "", false
	}
	domain := primary()
	if domain == "" {
		return "", false
	}
	return prefix + "<postmaster@" + domain + ">" + rest[len(path):], true
}

// newPostmasterConn lays a postmasterConn over c, for a plain-text session of s.
func newPostmasterConn(c net.Conn, s *Server) *postmasterConn {
	return &postmasterConn{Conn: c, primary: func() string {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return s.primaryDomain(ctx)
	}}
}

// primaryDomain is the domain whose postmaster receives mail for the bare "postmaster": the
// server's host name when it is a local domain, else the nearest parent domain of it that is
// local (mx.example.org: example.org), else the local domain added first. "" when there are no
// local domains.
func (s *Server) primaryDomain(ctx context.Context) string {
	for d := strings.ToLower(strings.TrimSuffix(s.Hostname, ".")); d != ""; {
		if _, err := s.Store.GetDomain(ctx, d); err == nil {
			return d
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(parent, ".") {
			break
		}
		d = parent
	}
	domains, err := s.Store.ListDomains(ctx)
	if err != nil {
		s.Logger.Warn("list domains for the postmaster", "err", err)
		return ""
	}
	first := ""
	var firstID int64
	for _, d := range domains {
		if first == "" || d.ID < firstID {
			first, firstID = d.Name, d.ID
		}
	}
	return first
}
