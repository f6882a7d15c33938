package pop3server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkRetr downloads a maildrop of 1,000 messages of 10 KiB over loopback, one RETR after
// another as fetchmail does; a b.N counts messages.
func BenchmarkRetr(b *testing.B) {
	h := newHarness(b)
	const count = 1000
	line := strings.Repeat("0123456789", 7) + "\r\n"
	body := strings.Repeat(line, 10240/len(line))
	for n := 1; n <= count; n++ {
		h.Deliver(h.Alice, "INBOX", fmt.Sprintf("Subject: message %d\r\n\r\n%s", n, body))
	}
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReaderSize(c, 64<<10)
	status := func() {
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "+OK") {
			b.Fatalf("%q, %v", line, err)
		}
	}
	status()
	for _, cmd := range []string{"USER alice@example.org", "PASS " + testPassword} {
		io.WriteString(c, cmd+"\r\n")
		status()
	}
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := range b.N {
		io.WriteString(c, "RETR "+strconv.Itoa(i%count+1)+"\r\n")
		status()
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if string(line) == ".\r\n" {
				break
			}
		}
	}
}
