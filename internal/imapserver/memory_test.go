package imapserver

import (
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestIdleConnectionMemory measures what an idle, logged-in session with INBOX selected costs
// the process: heap and goroutine stacks, after a GC, divided by the number of sessions. The
// design's goal is tens of KiB per idle connection; the test fails above 64 KiB. The clients
// here are raw connections, whose own cost (a socket, no buffers) is small and counted too.
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens hundreds of connections")
	}
	const n = 100
	h := newHarness(t)
	for i := 1; i <= 20; i++ {
		h.deliver(h.alice, "INBOX", testMessage(i))
	}
	// Warm up: one session, so that lazily built state (prepared statements, pools) is not
	// counted per connection.
	warm := h.login()
	warm.cmd("w1 SELECT INBOX", "* FLAGS ...", "* 20 EXISTS", "* 20 RECENT", "* OK [UNSEEN 1] ...", "* OK ...", "* OK ...", "* OK ...", "w1 OK ...")
	before := heapAndStacks()
	conns := make([]net.Conn, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 8)
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := net.Dial("tcp", h.addr)
			if err != nil {
				errs <- err
				return
			}
			conns[i] = c
			script := fmt.Sprintf("a LOGIN alice@example.org %q\r\nb SELECT INBOX\r\n", testPassword)
			if _, err := io.WriteString(c, script); err != nil {
				errs <- err
				return
			}
			if err := readUntil(c, "b OK"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	after := heapAndStacks()
	per := (int64(after) - int64(before)) / n
	t.Logf("%d idle sessions (logged in, INBOX selected): %d KiB in all, %.1f KiB per session",
		n, (int64(after)-int64(before))>>10, float64(per)/1024)
	if per > 64<<10 {
		t.Errorf("%d bytes per idle session, goal under 64 KiB", per)
	}
	for _, c := range conns {
		c.Close()
	}
}

func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc + m.StackInuse
}

// readUntil reads from c until a line starts with prefix.
func readUntil(c net.Conn, prefix string) error {
	var buf [512]byte
	var got strings.Builder
	for !strings.Contains(got.String(), "\n"+prefix) {
		k, err := c.Read(buf[:])
		if err != nil {
			return fmt.Errorf("read: %v (got %q)", err, got.String())
		}
		got.Write(buf[:k])
	}
	return nil
}
