package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The change feed across nodes. A write transaction sends its store.Change events with
// pg_notify on notifyChannel; PostgreSQL delivers a notification when, and only if, the
// transaction commits. Every Store holds one connection of its own (not of the pool) that
// LISTENs on the channel, and publishes on its hub the events other Stores sent: its own it
// published already, after its commit.
//
// A payload is text: the sending Store's node name on the first line, then one line per event,
// "account mailbox kind modseq" in decimal. A transaction with more events than fit in one
// payload (PostgreSQL allows under 8000 bytes) sends several.
//
// When the listening connection fails, the listener connects again, with a growing pause, until
// the Store is closed; events sent meanwhile are lost. A subscriber misses no state by that
// (events carry none), only the wake-up, until the next change of its account.

// notifyChannel is the channel of the change notifications.
const notifyChannel = "posthorn_changes"

// maxPayload is the size from which a payload is sent and another started.
const maxPayload = 7000

// listener is the goroutine that receives the notifications of the other nodes.
type listener struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// listen starts the listener on a connection of its own made from cfg; it returns once the
// first LISTEN has succeeded, so a change another Store commits after Open is heard.
func (s *Store) listen(ctx context.Context, cfg *pgx.ConnConfig) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	s.node = hex.EncodeToString(b[:])
	conn, err := connectListening(ctx, cfg)
	if err != nil {
		return fmt.Errorf("listen for changes: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	l := &listener{cancel: cancel, done: make(chan struct{})}
	s.listener = l
	go func() {
		defer close(l.done)
		s.receive(runCtx, cfg, conn)
	}()
	return nil
}

func connectListening(ctx context.Context, cfg *pgx.ConnConfig) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg.Copy())
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return nil, errors.Join(err, conn.Close(ctx))
	}
	return conn, nil
}

// receive publishes the notifications of conn until ctx ends, connecting again when the
// connection fails.
func (s *Store) receive(ctx context.Context, cfg *pgx.ConnConfig, conn *pgx.Conn) {
	pause := 100 * time.Millisecond
	for {
		for conn != nil {
			n, err := conn.WaitForNotification(ctx)
			if err != nil {
				_ = conn.Close(context.Background()) // the connection is broken or ctx ended
				conn = nil
				break
			}
			pause = 100 * time.Millisecond
			s.publishRemote(n.Payload)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 10*time.Second)
		c, err := connectListening(ctx, cfg)
		if err == nil {
			conn = c
		}
	}
}

// stop ends the listener and waits for it.
func (l *listener) stop() error {
	l.cancel()
	<-l.done
	return nil
}

// publishRemote publishes the events of a payload another Store sent.
func (s *Store) publishRemote(payload string) {
	node, events, _ := strings.Cut(payload, "\n")
	if node == s.node {
		return
	}
	for line := range strings.SplitSeq(events, "\n") {
		f := strings.Fields(line)
		if len(f) != 4 {
			continue
		}
		var n [4]int64
		ok := true
		for i := range f {
			v, err := strconv.ParseInt(f[i], 10, 64)
			n[i], ok = v, ok && err == nil
		}
		if ok {
			s.hub.Publish(store.Change{AccountID: n[0], MailboxID: n[1], Kind: store.ChangeKind(n[2]), ModSeq: uint64(n[3])})
		}
	}
}

// changeLog collects the changes of a write transaction.
type changeLog struct {
	node string         // the Store's name in notifications
	all  []store.Change // in the order made
	sent int            // how many of all queueNotify has sent
}

// add notes a change.
func (l *changeLog) add(c store.Change) { l.all = append(l.all, c) }

// queueNotify adds to b the pg_notify calls that send the changes noted since the last call,
// so that a write's last batch carries them without a round trip of their own.
func (l *changeLog) queueNotify(b *pgx.Batch) {
	var payload strings.Builder
	send := func() {
		if payload.Len() > 0 {
			queueExec(b, "notify changes", `SELECT pg_notify($1, $2)`, notifyChannel, l.node+"\n"+payload.String())
			payload.Reset()
		}
	}
	for _, c := range l.all[l.sent:] {
		fmt.Fprintf(&payload, "%d %d %d %d\n", c.AccountID, c.MailboxID, c.Kind, c.ModSeq)
		if payload.Len() >= maxPayload {
			send()
		}
	}
	send()
	l.sent = len(l.all)
}
