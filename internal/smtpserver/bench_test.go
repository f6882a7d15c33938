package smtpserver

import (
	"bufio"
	"fmt"
	"net"
	"net/textproto"
	"strings"
	"sync/atomic"
	"testing"
)

// BenchmarkIngest measures inbound delivery end to end over loopback: a real Server over SQLite,
// the blob store and the group committer, which parses each message as in production. Every
// message is acknowledged only after its body and rows are fsync'd, so the figure is durable
// messages per second. Each of the concurrent clients keeps one connection and pipelines MAIL,
// RCPT and DATA (RFC 2920), as an MTA would.
//
//	go test ./internal/smtpserver -run '^$' -bench Ingest -benchtime 3s
func BenchmarkIngest(b *testing.B) {
	for _, size := range []struct {
		name  string
		bytes int
	}{{"4KiB", 4 << 10}, {"100KiB", 100 << 10}} {
		for _, conc := range []int{1, 20, 100} {
			b.Run(fmt.Sprintf("size=%s/conc=%d", size.name, conc), func(b *testing.B) {
				benchmarkIngest(b, size.bytes, conc)
			})
		}
	}
}

func benchmarkIngest(b *testing.B, size, concurrency int) {
	var batches, batched atomic.Int64
	h := newHarness(b, func(s *Server) {
		s.MaxMessageBytes = 1 << 20
		s.MaxConnections = concurrency + 10
		// Set before the first Commit, which orders it before the committer's first read.
		s.Committer.BatchSizes = func(n int) {
			batches.Add(1)
			batched.Add(int64(n))
		}
	})
	benchmarkSend(b, h, benchMessage(size), concurrency)
	if n := batches.Load(); n > 0 {
		b.ReportMetric(float64(batched.Load())/float64(n), "msgs/commit")
	}
}

// benchMessage is a text message of about size bytes, header included, followed by the end of
// data. No body line starts with a dot, so it is sent as it is.
func benchMessage(size int) []byte {
	var b strings.Builder
	b.WriteString("From: <load@remote.example>\r\nTo: <alice@example.org>\r\nSubject: ingest benchmark\r\n" +
		"Message-ID: <bench@remote.example>\r\nDate: Mon, 02 Jan 2006 15:04:05 +0000\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n")
	line := strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz", 2) + "ABCD\r\n" // 78 bytes
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString(".\r\n")
	return []byte(b.String())
}

// benchClient is one persistent SMTP connection.
type benchClient struct {
	c net.Conn
	w *bufio.Writer
	r *textproto.Reader
}

func dialBench(b *testing.B, addr string) *benchClient {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchClient{c: c, w: bufio.NewWriterSize(c, 64<<10), r: textproto.NewReader(bufio.NewReader(c))}
	if _, _, err := bc.r.ReadResponse(220); err != nil {
		b.Fatal(err)
	}
	if _, err := bc.w.WriteString("EHLO bench.example\r\n"); err != nil {
		b.Fatal(err)
	}
	if err := bc.w.Flush(); err != nil {
		b.Fatal(err)
	}
	if _, _, err := bc.r.ReadResponse(250); err != nil {
		b.Fatal(err)
	}
	return bc
}

// send delivers msg (ending with the end of data) in one pipelined transaction.
func (c *benchClient) send(msg []byte) error {
	if _, err := c.w.WriteString("MAIL FROM:<load@remote.example>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\n"); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	for _, code := range []int{250, 250, 354} {
		if _, _, err := c.r.ReadResponse(code); err != nil {
			return err
		}
	}
	if _, err := c.w.Write(msg); err != nil {
		return err
	}
	if err := c.w.Flush(); err != nil {
		return err
	}
	_, _, err := c.r.ReadResponse(250)
	return err
}

func (c *benchClient) quit() {
	_, _ = c.w.WriteString("QUIT\r\n")
	_ = c.w.Flush()
	_, _, _ = c.r.ReadResponse(221)
}
