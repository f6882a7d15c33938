package imapserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/credentials"
)

// TestParallelWrongLoginsAreBounded: 200 connections from one address, each sending one wrong
// LOGIN at the same moment, get no more than credentials.HardLimit evaluated
// (NO [AUTHENTICATIONFAILED]); the others are refused (NO [UNAVAILABLE]).
func TestParallelWrongLoginsAreBounded(t *testing.T) {
	const conns = 200
	h := newHarness(t, func(s *Server) {
		s.MaxConnections = conns + 10
		s.Auth.SetSleep(func(context.Context, time.Duration) error { return nil })
	})
	readers := make([]*bufio.Reader, conns)
	clients := make([]net.Conn, conns)
	for i := range conns {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if err := c.SetDeadline(time.Now().Add(5 * time.Minute)); err != nil {
			t.Fatal(err)
		}
		clients[i], readers[i] = c, bufio.NewReader(c)
		if line, err := readers[i].ReadString('\n'); err != nil || !strings.HasPrefix(line, "* OK") {
			t.Fatalf("greeting %d: %q %v", i, line, err)
		}
	}
	replies := make([]string, conns)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if _, err := fmt.Fprintf(clients[i], "a LOGIN alice@example.org \"guess %d\"\r\n", i); err != nil {
				replies[i] = err.Error()
				return
			}
			for {
				line, err := readers[i].ReadString('\n')
				if err != nil {
					replies[i] = err.Error()
					return
				}
				if strings.HasPrefix(line, "a ") {
					replies[i] = strings.TrimSpace(line)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	var failed, throttled int
	for i, r := range replies {
		switch {
		case strings.HasPrefix(r, "a NO [AUTHENTICATIONFAILED]"):
			failed++
		case strings.HasPrefix(r, "a NO [UNAVAILABLE]"):
			throttled++
		default:
			t.Fatalf("connection %d: %q", i, r)
		}
	}
	t.Logf("%d parallel wrong LOGINs from one address: %d evaluated, %d throttled", conns, failed, throttled)
	if failed > credentials.HardLimit {
		t.Fatalf("%d wrong LOGINs evaluated, %d throttled: want at most %d evaluated", failed, throttled, credentials.HardLimit)
	}
}
