package queue

import (
	"context"
	"crypto/x509"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/delivery"
	"posthorn/internal/dns"
	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// Store is what the scheduler needs of the metadata store: the queue, and the directory to
// find whether a sender is local.
type Store interface {
	store.Store
	store.QueueStore
}

// Smarthost relays every message instead of the recipients' MX hosts.
type Smarthost struct {
	Addr     string // "host:port"
	Username string // AUTH PLAIN over TLS when set
	Password string
}

// Defaults of the Scheduler's zero fields.
const (
	DefaultPort              = 25
	DefaultLifetime          = 5 * 24 * time.Hour
	DefaultDelayNotice       = 4 * time.Hour
	DefaultRetryMin          = 5 * time.Minute
	DefaultRetryMax          = 4 * time.Hour
	DefaultMaxConnections    = 100
	DefaultMaxPerDestination = 10
	DefaultMaxRecipients     = 50
	DefaultMaxInMemory       = 10000
	DefaultPollInterval      = 30 * time.Second
	DefaultTimeout           = 10 * time.Minute
)

// Scheduler delivers the outbound queue. Set its fields, then call Start; Shutdown stops it.
type Scheduler struct {
	Hostname  string // EHLO name, Reporting-MTA of notifications
	Store     Store
	Bodies    bodystore.Bodies    // the queued messages' bodies
	Committer *delivery.Committer // commits notifications
	Resolver  dns.Resolver
	Logger    *slog.Logger
	MailLog   *maillog.Logger // nil: no mail log
	Metrics   *Metrics        // nil: no metrics

	Port      int // destination port of MX hosts. Default: 25.
	Smarthost Smarthost

	Lifetime          time.Duration // how long a message is retried. Default: 5 days.
	DelayNotice       time.Duration // when the sender is told of a delay. Default: 4 hours.
	RetryMin          time.Duration // first retry interval. Default: 5 minutes.
	RetryMax          time.Duration // longest retry interval. Default: 4 hours.
	MaxConnections    int           // outbound connections in all. Default: 100.
	MaxPerDestination int           // connections per destination. Default: 10.
	// RatePerDestination is the most transactions per second to one destination; 0: no limit.
	RatePerDestination float64
	MaxRecipients      int           // recipients per transaction. Default: 50.
	MaxInMemory        int           // due rows read into memory at once. Default: 10000.
	PollInterval       time.Duration // longest sleep between reads of the queue. Default: 30 s.
	Timeout            time.Duration // bound of one transaction (RFC 5321 §4.5.3.2: 10 min for the data). Default: 10 min.
	// StuckAfter is how long a due row may wait while no attempt finishes before Stuck says
	// so (stuck.go). Default: the longer of DefaultStuckAfter and Timeout + PollInterval.
	StuckAfter time.Duration

	// RootCAs verifies certificates where a policy requires it (MTA-STS, smarthost); nil: the
	// system's roots.
	RootCAs *x509.CertPool
	// HTTPClient fetches MTA-STS policies; nil: one with RootCAs and a 1-minute timeout.
	HTTPClient *http.Client
	// Secure answers the MX, address and TLSA lookups with whether DNSSEC authenticated them,
	// which DANE needs (RFC 7672 §2.2); when set it replaces Resolver for MX and address
	// lookups. nil: no DNSSEC, no DANE.
	Secure dns.SecureResolver
	// Dial opens TCP connections; nil: net.Dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the clock; nil: time.Now.
	Now func() time.Time
	// Journal is the file where delivered rows are recorded in one write right after the
	// remote 250 (see the package doc); "": none, and a crash may duplicate the transactions
	// waiting for their removal from the store.
	Journal string
	// Outcomes, when set, is told the outcome of every attempt of a campaign row (one with
	// CampaignRecipient set), in the connection that made it, before the row is removed or
	// rescheduled: delivered, deferred, failed permanently or expired. For such rows the queue
	// sends no delivery status notification (neither failure nor delay): the hook is the
	// bounce. nil: campaign rows are treated like any other.
	Outcomes func(ctx context.Context, q store.QueuedMessage, o Outcome)

	journal *doneJournal
	// progressMu guards lastAttempt: when an attempt last finished (Start counts as one).
	progressMu  sync.Mutex
	lastAttempt time.Time
	mu          sync.Mutex
	inflight    map[int64]bool
	// truncated: the last read returned MaxInMemory rows; more may be due.
	truncated bool
	maxSeen   int64 // the highest row id read so far
	dests     map[string]*destination
	active    int // connections open or opening
	wake      chan struct{}
	marks     chan mark
	cancel    context.CancelFunc
	quit      chan struct{}
	loopDone  chan struct{}
	markDone  chan struct{}
	workers   sync.WaitGroup
	removing  sync.WaitGroup // removals of message files whose rows are gone
}

// destination is the in-memory state of one destination: the due rows waiting for a
// connection and the connections serving it.
type destination struct {
	name    string
	pending []store.QueuedMessage // priority, then next attempt
	// perBlob counts pending's rows by message (blob), so that take finds a message with one
	// row here (every campaign message) without a walk of the whole list.
	perBlob  map[string]int
	conns    int
	nextSend time.Time // rate limit: the earliest start of the next transaction
}

// Start fills in the defaults and starts the scheduler.
func (s *Scheduler) Start() {
	s.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.inflight = map[int64]bool{}
	s.dests = map[string]*destination{}
	s.wake = make(chan struct{}, 1)
	s.marks = make(chan mark, 256)
	s.quit = make(chan struct{})
	s.loopDone = make(chan struct{})
	s.markDone = make(chan struct{})
	s.progressMu.Lock()
	s.lastAttempt = s.Now()
	s.progressMu.Unlock()
	s.openJournal(ctx)
	go s.markLoop(ctx)
	go s.loop(ctx)
	s.Logger.Info("queue scheduler started", "port", s.Port, "smarthost", s.Smarthost.Addr,
		"max_connections", s.MaxConnections, "max_per_destination", s.MaxPerDestination,
		"lifetime", s.Lifetime, "delay_notice", s.DelayNotice)
}

func (s *Scheduler) defaults() {
	setDefault(&s.Port, DefaultPort)
	setDefault(&s.Lifetime, DefaultLifetime)
	setDefault(&s.DelayNotice, DefaultDelayNotice)
	setDefault(&s.RetryMin, DefaultRetryMin)
	setDefault(&s.RetryMax, DefaultRetryMax)
	setDefault(&s.MaxConnections, DefaultMaxConnections)
	setDefault(&s.MaxPerDestination, DefaultMaxPerDestination)
	setDefault(&s.MaxRecipients, DefaultMaxRecipients)
	setDefault(&s.MaxInMemory, DefaultMaxInMemory)
	setDefault(&s.PollInterval, DefaultPollInterval)
	setDefault(&s.Timeout, DefaultTimeout)
	setDefault(&s.StuckAfter, max(DefaultStuckAfter, s.Timeout+s.PollInterval))
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Dial == nil {
		d := &net.Dialer{Timeout: 30 * time.Second}
		s.Dial = d.DialContext
	}
	if s.HTTPClient == nil {
		s.HTTPClient = newPolicyClient(s.RootCAs)
	}
}

func setDefault[T comparable](p *T, v T) {
	var zero T
	if *p == zero {
		*p = v
	}
}

// Shutdown stops reading the queue and lets every connection finish its current transaction;
// when ctx ends first, the transactions still running are cut off (their rows stay queued).
func (s *Scheduler) Shutdown(ctx context.Context) error {
	close(s.quit)
	<-s.loopDone
	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		s.cancel()
		<-done
	}
	close(s.marks)
	<-s.markDone
	s.removing.Wait()
	if s.journal != nil {
		if cerr := s.journal.close(); cerr != nil {
			s.Logger.Error("queue: close delivery journal", "err", cerr)
		}
	}
	s.cancel()
	return err
}

// stopping reports whether Shutdown has begun.
func (s *Scheduler) stopping() bool {
	select {
	case <-s.quit:
		return true
	default:
		return false
	}
}

// signal wakes the loop without blocking.
func (s *Scheduler) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// loop reads due rows and starts connections until Shutdown.
func (s *Scheduler) loop(ctx context.Context) {
	defer close(s.loopDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	read, onlyNew := true, false
	var lastRead time.Time
	for {
		if read {
			// Reads are at least minReadInterval apart: while submissions commit a few hundred
			// times a second, one read takes all their rows.
			if wait := minReadInterval - time.Since(lastRead); wait > 0 {
				time.Sleep(wait)
			}
			if !onlyNew {
				lastRead = time.Now()
			}
			s.fill(ctx, onlyNew)
		}
		s.dispatch(ctx)
		sleep := s.sleep(ctx)
		timer.Reset(min(sleep, probeInterval))
		select {
		case <-s.quit:
			return
		case <-s.Store.QueueWake():
			read, onlyNew = true, true
		case <-s.wake:
			// A connection ended or rows left flight: no row became due, unless the rows in
			// memory ran low after a read that hit MaxInMemory.
			read, onlyNew = s.needsRead(), false
		case <-timer.C:
			read = sleep <= probeInterval || time.Since(lastRead) >= s.PollInterval || s.dueElsewhere(ctx)
			onlyNew = false
		}
	}
}

// probeInterval is how often the scheduler counts the due rows, to see rows made due by
// another process (`posthorn queue retry`) without reading the queue.
const probeInterval = 250 * time.Millisecond

// dueElsewhere reports whether more rows are due than this process holds: rows it has not read.
// Every row in memory is due or already gone from the table, so the count cannot be lower
// merely because of them.
func (s *Scheduler) dueElsewhere(ctx context.Context) bool {
	n, err := s.Store.CountDueQueue(ctx, s.Now())
	if err != nil {
		s.Logger.Error("queue: count due rows", "err", err)
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return n > len(s.inflight)
}

// minReadInterval spaces the scheduler's reads of the queue.
const minReadInterval = 20 * time.Millisecond

// needsRead reports whether the last read was cut at MaxInMemory and memory has room again.
func (s *Scheduler) needsRead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.truncated && len(s.inflight) <= s.MaxInMemory/2
}

// sleep returns how long the loop may wait for a signal: until the next row falls due, at most
// PollInterval.
func (s *Scheduler) sleep(ctx context.Context) time.Duration {
	now := s.Now()
	next, err := s.Store.NextQueueAttempt(ctx, now)
	if err != nil {
		s.Logger.Error("queue: next attempt", "err", err)
		return s.PollInterval
	}
	if next.IsZero() {
		return s.PollInterval
	}
	return min(max(next.Sub(now), time.Millisecond), s.PollInterval)
}

// fill reads due rows into the destinations' lists.
//
// With onlyNew, it reads only the rows added since the last read (ids above any seen), which
// costs nothing however many rows are in memory; that is what a signal of new rows asks for. A
// row that reuses the id of a deleted one is missed then, and found by the next count of due
// rows (dueElsewhere) within probeInterval.
func (s *Scheduler) fill(ctx context.Context, onlyNew bool) {
	s.mu.Lock()
	room := s.MaxInMemory - len(s.inflight)
	var exclude map[int64]bool
	if !onlyNew {
		exclude = maps(s.inflight)
	}
	after := s.maxSeen
	s.mu.Unlock()
	if room <= 0 {
		return
	}
	var due []store.QueuedMessage
	var err error
	if onlyNew {
		due, err = s.Store.NewQueueRows(ctx, after, room)
	} else {
		due, err = s.Store.DueQueue(ctx, s.Now(), room, exclude)
	}
	if err != nil {
		s.Logger.Error("queue: read due rows", "err", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncated = len(due) == room
	touched := map[*destination]bool{}
	for _, q := range due {
		s.maxSeen = max(s.maxSeen, q.ID)
		if s.inflight[q.ID] || q.NextAttempt.After(s.Now()) {
			continue
		}
		s.inflight[q.ID] = true
		name := s.destinationOf(q)
		d := s.dests[name]
		if d == nil {
			d = &destination{name: name}
			s.dests[name] = d
		}
		d.pending = append(d.pending, q)
		if d.perBlob == nil {
			d.perBlob = map[string]int{}
		}
		d.perBlob[q.BlobID]++
		touched[d] = true
	}
	for d := range touched {
		slices.SortStableFunc(d.pending, func(a, b store.QueuedMessage) int {
			if a.Priority != b.Priority {
				return int(a.Priority - b.Priority)
			}
			return a.NextAttempt.Compare(b.NextAttempt)
		})
	}
}

func maps(m map[int64]bool) map[int64]bool {
	out := make(map[int64]bool, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// destinationOf names the destination of a row.
func (s *Scheduler) destinationOf(q store.QueuedMessage) string {
	if s.Smarthost.Addr != "" {
		return "[" + s.Smarthost.Addr + "]"
	}
	return q.Domain
}

// dispatch starts connections for destinations with waiting rows, normal priority first.
func (s *Scheduler) dispatch(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping() {
		return
	}
	var normal, bulk []*destination
	for name, d := range s.dests {
		if len(d.pending) == 0 {
			if d.conns == 0 {
				delete(s.dests, name)
			}
			continue
		}
		if d.pending[0].Priority == store.PriorityNormal {
			normal = append(normal, d)
		} else {
			bulk = append(bulk, d)
		}
	}
	// A quarter of the connections are for person-to-person mail only.
	reserve := s.MaxConnections / 4
	for _, group := range []struct {
		dests []*destination
		limit int
	}{{normal, s.MaxConnections}, {bulk, s.MaxConnections - reserve}} {
		for _, d := range group.dests {
			// A connection per waiting row (each may be a message of its own), as limits allow.
			want := min(s.MaxPerDestination, len(d.pending))
			for d.conns < want && s.active < group.limit {
				d.conns++
				s.active++
				s.workers.Add(1)
				go s.work(ctx, d)
			}
		}
	}
}

// take removes the next transaction's rows from a destination's list: the first row and the
// following ones of the same message and sender with the same requirements, up to
// MaxRecipients. It returns nil when the list is empty or Shutdown has begun.
func (s *Scheduler) take(d *destination) []store.QueuedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(d.pending) == 0 || s.stopping() {
		return nil
	}
	first := d.pending[0]
	batch := []store.QueuedMessage{first}
	if d.perBlob[first.BlobID] <= 1 {
		// The message's only row here: no other row can join the transaction.
		d.pending[0] = store.QueuedMessage{}
		d.pending = d.pending[1:]
		d.forget(batch)
		return batch
	}
	rest := d.pending[:0:0]
	for _, q := range d.pending[1:] {
		if len(batch) < s.MaxRecipients && sameTransaction(first, q) {
			batch = append(batch, q)
		} else {
			rest = append(rest, q)
		}
	}
	d.pending = rest
	d.forget(batch)
	return batch
}

// forget takes rows that left pending out of perBlob.
func (d *destination) forget(rows []store.QueuedMessage) {
	for _, q := range rows {
		if d.perBlob[q.BlobID]--; d.perBlob[q.BlobID] <= 0 {
			delete(d.perBlob, q.BlobID)
		}
	}
}

// takeAll empties a destination's list, for a failure that applies to all of it.
func (s *Scheduler) takeAll(d *destination) []store.QueuedMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := d.pending
	d.pending = nil
	d.perBlob = nil
	return all
}

func sameTransaction(a, b store.QueuedMessage) bool {
	return a.BlobID == b.BlobID && a.Sender == b.Sender && a.RequireTLS == b.RequireTLS &&
		a.SMTPUTF8 == b.SMTPUTF8 && a.EightBit == b.EightBit
}

// release ends the life of rows in this process's memory: they may be read again.
func (s *Scheduler) release(ids ...int64) {
	s.mu.Lock()
	for _, id := range ids {
		delete(s.inflight, id)
	}
	s.mu.Unlock()
}

// workDone records the end of a connection.
func (s *Scheduler) workDone(d *destination) {
	s.mu.Lock()
	d.conns--
	s.active--
	s.mu.Unlock()
	s.workers.Done()
	s.signal()
}

// rateWait waits for the destination's rate limit; false if ctx ended first.
func (s *Scheduler) rateWait(ctx context.Context, d *destination) bool {
	if s.RatePerDestination <= 0 {
		return true
	}
	interval := time.Duration(float64(time.Second) / s.RatePerDestination)
	s.mu.Lock()
	now := s.Now()
	start := now
	if d.nextSend.After(now) {
		start = d.nextSend
	}
	d.nextSend = start.Add(interval)
	s.mu.Unlock()
	if wait := start.Sub(now); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// mark asks the marker to commit the removal of delivered rows; done is closed after the commit.
// journaled: the ids are in the delivery journal.
type mark struct {
	ids       []int64
	journaled bool
	done      chan struct{}
}

// openJournal opens the delivery journal and removes from the store the rows it names, which
// were delivered before a crash or a stop, before the queue is read. Without a journal that
// opens, the scheduler runs as with none (and says so).
func (s *Scheduler) openJournal(ctx context.Context) {
	if s.Journal == "" {
		return
	}
	j, ids, err := openDoneJournal(s.Journal)
	if err != nil {
		s.Logger.Error("queue: no delivery journal; a crash may duplicate more", "err", err)
		return
	}
	if len(ids) > 0 {
		s.Logger.Info("queue: rows delivered before the last stop removed", "count", len(ids))
		s.done(ctx, ids)
	}
	if err := j.reset(); err != nil {
		s.Logger.Error("queue: no delivery journal; a crash may duplicate more", "err", err)
		_ = j.close()
		return
	}
	s.journal = j
}

// journalDelivered records delivered rows in the journal, durably; false if it could not (the
// rows' removal from the store then goes on as the only record).
func (s *Scheduler) journalDelivered(ids []int64) bool {
	if s.journal == nil {
		return false
	}
	if err := s.journal.append(ids); err != nil {
		s.Logger.Error("queue: delivery journal", "err", err)
		return false
	}
	return true
}

// markLoop commits delivered rows in groups: every id waiting is removed in one transaction.
func (s *Scheduler) markLoop(ctx context.Context) {
	defer close(s.markDone)
	for m := range s.marks {
		group := []mark{m}
		ids := m.ids
	drain:
		for {
			select {
			case more, ok := <-s.marks:
				if !ok {
					break drain
				}
				group = append(group, more)
				ids = append(ids, more.ids...)
			default:
				break drain
			}
		}
		s.done(context.WithoutCancel(ctx), ids)
		journaled := 0
		for _, m := range group {
			if m.journaled {
				journaled += len(m.ids)
			}
			close(m.done)
		}
		if journaled > 0 {
			if err := s.journal.removed(journaled); err != nil {
				s.Logger.Warn("queue: delivery journal", "err", err)
			}
		}
	}
}

// done removes rows from the queue (and their unreferenced blobs), then releases them. A row
// the operator deleted meanwhile is not an error.
func (s *Scheduler) done(ctx context.Context, ids []int64) {
	gone, err := s.Store.QueueDone(ctx, ids...)
	if errors.Is(err, store.ErrNotFound) && len(ids) > 1 {
		gone = nil
		err = nil
		for _, id := range ids {
			g, e := s.Store.QueueDone(ctx, id)
			if e != nil && !errors.Is(e, store.ErrNotFound) {
				err = errors.Join(err, e)
			}
			gone = append(gone, g...)
		}
	} else if errors.Is(err, store.ErrNotFound) {
		err = nil
	}
	if err != nil {
		// The rows stay queued and are sent again: a duplicate, never a loss.
		s.Logger.Error("queue: remove delivered rows", "ids", ids, "err", err)
	}
	s.release(ids...)
	s.signal()
	// The files go in the background: the next group of delivered rows must not wait for
	// unlinks to be committed (every delivered row waiting is a possible duplicate).
	if len(gone) > 0 {
		s.removing.Add(1)
		go func() {
			defer s.removing.Done()
			for _, id := range gone {
				if err := s.Bodies.Remove(context.Background(), id); err != nil {
					s.Logger.Warn("queue: remove message body", "blob", id, "err", err)
				}
			}
		}()
	}
}
