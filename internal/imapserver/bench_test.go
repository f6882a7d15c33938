package imapserver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
)

// benchMessages is the size of the mailbox the benchmarks work on.
const benchMessages = 10_000

// benchHarness returns a server whose alice has benchMessages messages in INBOX, delivered
// concurrently (so through group commits), and a logged-in raw connection with INBOX selected.
func benchHarness(b *testing.B) (*harness, *benchConn) {
	b.Helper()
	h := newHarness(b)
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				h.deliver(h.alice, "INBOX", testMessage(i))
			}
		}()
	}
	for i := 1; i <= benchMessages; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	bc := &benchConn{c: c, r: bufio.NewReaderSize(c, 64<<10)}
	bc.run(b, fmt.Sprintf("LOGIN alice@example.org %q", testPassword))
	bc.run(b, "SELECT INBOX")
	return h, bc
}

type benchConn struct {
	c   net.Conn
	r   *bufio.Reader
	tag int
}

// run sends a command and reads its responses to the tagged one, which must be OK; it returns
// the number of response lines.
func (c *benchConn) run(b *testing.B, cmd string) int {
	b.Helper()
	c.tag++
	tag := fmt.Sprintf("b%d", c.tag)
	if _, err := io.WriteString(c.c, tag+" "+cmd+"\r\n"); err != nil {
		b.Fatal(err)
	}
	n := 0
	for {
		line, err := c.r.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
		if strings.HasPrefix(string(line), tag+" ") {
			if !strings.HasPrefix(string(line), tag+" OK") {
				b.Fatalf("%s: %s", cmd, line)
			}
			return n
		}
	}
}

func BenchmarkFetchFlagsEnvelopeSize(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := c.run(b, "FETCH 1:* (FLAGS ENVELOPE RFC822.SIZE)"); n != benchMessages+1 {
			b.Fatalf("%d lines", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/fetch-all")
}

// BenchmarkFetchFlags is FETCH 1:* (FLAGS), what a client runs to resynchronise flags.
func BenchmarkFetchFlags(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if n := c.run(b, "FETCH 1:* (FLAGS)"); n != benchMessages+1 {
			b.Fatalf("%d lines", n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/fetch-all")
}

func BenchmarkUIDSearchHeader(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.run(b, `UID SEARCH HEADER Message-ID "<4242@example.net>"`)
	}
}

func BenchmarkUIDSearchSubject(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.run(b, `UID SEARCH SUBJECT "message 4242"`)
	}
}

func BenchmarkUIDSearchBody(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.run(b, `UID SEARCH BODY "message 4242."`)
	}
}

func BenchmarkStore1000(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op := "+"
		if i%2 == 1 {
			op = "-"
		}
		c.run(b, "STORE 1:1000 "+op+"FLAGS.SILENT (\\Flagged)")
	}
}

func BenchmarkFetchBodies100(b *testing.B) {
	_, c := benchHarness(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.run(b, "FETCH 1:100 BODY.PEEK[]")
	}
}
