package retention

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/credentials"
	"posthorn/internal/imapserver"
	"posthorn/internal/testutil/mailenv"
)

// TestIMAPSessionSeesTheExpunge: a client idling in Junk (go-imap's imapclient) gets EXPUNGE
// for the message a run removes, and the message it keeps is still there to fetch.
func TestIMAPSessionSeesTheExpunge(t *testing.T) {
	v := newEnv(t, mailenv.New(t, "imap.example.org"))
	v.deliverAt(v.Alice, "Junk", daysAgo(1))
	v.deliverAt(v.Alice, "Junk", daysAgo(40))
	reg := prometheus.NewRegistry()
	srv := &imapserver.Server{
		Hostname: "imap.example.org", Store: v.Store, Bodies: v.Blobs.Bodies(), Committer: v.Committer,
		Auth: credentials.NewAuthenticator(v.Store, v.Logger, reg), Logger: v.Logger,
		Metrics: imapserver.NewMetrics(reg), TLSConfig: v.TLSConfig,
	}
	_, tlsAddr := v.Serve(srv.Serve, srv.ServeTLS)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	var mu sync.Mutex
	var expunged []uint32
	c, err := imapclient.DialTLS(tlsAddr, &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Expunge: func(seq uint32) {
				mu.Lock()
				expunged = append(expunged, seq)
				mu.Unlock()
			},
		},
	})
	must(t, err)
	defer c.Close()
	must(t, c.Login("alice@example.org", mailenv.Password).Wait())
	sel, err := c.Select("Junk", nil).Wait()
	must(t, err)
	if sel.NumMessages != 2 {
		t.Fatalf("Junk has %d messages, want 2", sel.NumMessages)
	}
	idle, err := c.Idle()
	must(t, err)

	rep, err := v.svc.Run(t.Context(), false)
	must(t, err)
	if rep.Messages != 1 {
		t.Fatalf("run removed %d messages, want 1", rep.Messages)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		got := append([]uint32(nil), expunged...)
		mu.Unlock()
		if len(got) == 1 && got[0] == 2 {
			break
		}
		if len(got) > 1 || time.Now().After(deadline) {
			t.Fatalf("expunged sequence numbers = %v, want [2]", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	must(t, idle.Close())
	must(t, idle.Wait())
	status, err := c.Status("Junk", &imap.StatusOptions{NumMessages: true}).Wait()
	must(t, err)
	if status.NumMessages == nil || *status.NumMessages != 1 {
		t.Errorf("STATUS Junk = %+v, want 1 message", status)
	}
}
