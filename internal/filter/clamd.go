package filter

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Clamd is a client of ClamAV's daemon, speaking its INSTREAM command (clamd(8)): after
// "zINSTREAM\0" the data follows in chunks, each a 4-byte big-endian length and that many
// octets, ended by a zero length; clamd answers one NUL-terminated line, "stream: OK",
// "stream: NAME FOUND" or "... ERROR". A new connection is used per scan.
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
}

func (c *Clamd) maxSize() int64 {
	if c.MaxSize > 0 {
		return c.MaxSize
	}
	return 25 << 20
}

// chunkSize is the length of each INSTREAM chunk.
const chunkSize = 64 << 10

// ErrClamdUnavailable wraps every failure to get a scan result: clamd down, too slow, or
// answering with an error (such as its StreamMaxLength).
var ErrClamdUnavailable = errors.New("clamd unavailable")

// Scan sends r to clamd and returns the name of the signature found, "" when clean.
func (c *Clamd) Scan(ctx context.Context, r io.Reader) (string, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrClamdUnavailable, err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return "", fmt.Errorf("%w: %w", ErrClamdUnavailable, err)
	}
	// A cancelled context ends the scan at once, not at the deadline.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	reply, err := instream(conn, r)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrClamdUnavailable, err)
	}
	return parseReply(reply)
}

func (c *Clamd) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	if path, ok := strings.CutPrefix(c.Address, "unix:"); ok {
		return d.DialContext(ctx, "unix", path)
	}
	return d.DialContext(ctx, "tcp", c.Address)
}

// instream runs the INSTREAM command on conn and returns clamd's reply without its NUL.
func instream(conn net.Conn, r io.Reader) (string, error) {
	w := bufio.NewWriterSize(conn, chunkSize+4)
	if _, err := w.WriteString("zINSTREAM\x00"); err != nil {
		return "", err
	}
	buf := make([]byte, chunkSize)
	var length [4]byte
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			binary.BigEndian.PutUint32(length[:], uint32(n))
			if _, err := w.Write(length[:]); err != nil {
				return "", err
			}
			if _, err := w.Write(buf[:n]); err != nil {
				// clamd closes the connection after its size limit: its reply says why.
				if reply, ok := readReply(conn); ok {
					return reply, nil
				}
				return "", err
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
	if _, err := w.Write(length[:]); err != nil {
		return "", err
	}
	if err := w.Flush(); err != nil {
		if reply, ok := readReply(conn); ok {
			return reply, nil
		}
		return "", err
	}
	reply, ok := readReply(conn)
	if !ok {
		return "", errors.New("no reply")
	}
	return reply, nil
}

// readReply reads clamd's NUL-terminated reply line (at most 4 KiB).
func readReply(conn net.Conn) (string, bool) {
	br := bufio.NewReaderSize(io.LimitReader(conn, 4096), 4096)
	line, err := br.ReadString(0)
	if err != nil && line == "" {
		return "", false
	}
	return strings.TrimRight(line, "\x00\r\n"), true
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

// scanVirus is the body stage's virus check.
func (f *Filter) scanVirus(ctx context.Context, r io.ReaderAt, size int64) []decision {
	if size > f.Clamd.maxSize() {
		return []decision{note(Reason{Name: "virus-scan-skipped", Detail: "size"})}
	}
	sig, err := f.Clamd.Scan(ctx, io.NewSectionReader(r, 0, size))
	switch {
	case err != nil:
		f.Logger.Warn("virus scan failed", "err", err)
		if f.ClamdFailOpen {
			return []decision{note(Reason{Name: "virus-scan-unavailable"})}
		}
		return []decision{tempFail(Reason{Name: "virus-scan-unavailable"}, 451, [3]int{4, 7, 1}, "Message could not be scanned, try again later")}
	case sig != "":
		return []decision{reject(Reason{Name: "virus", Detail: sig}, 554, [3]int{5, 7, 1}, "Message rejected: malware detected")}
	}
	return nil
}
