// Package importer copies mail from elsewhere into an account's mailboxes: an mbox file
// (mbox.go), a Maildir++ tree (maildir.go) or every folder of another IMAP server (imap.go,
// with its small client in imapclient.go). A Source walks its messages one at a time, in
// order; each is read once into a spool (memory up to 1 MiB, a temporary file beyond), hashed
// on the way, and handed to one of a few workers, which stores it the way every local append
// is stored: a delivery.Draft committed to one store.Target, its flags and internal date kept,
// its octets as they are (a message with a bad encoding, no Date or a huge header is stored
// like any other: message.Parse never refuses one). So memory stays bounded whatever the size
// of the source, and the workers' commits share fsyncs through the committer's group commit.
//
// Identity: a message is the SHA-256 of its raw octets within its target mailbox. The key is
// recorded in the store's import ledger (store.ImportLedger, store.Target.ImportKey) in the
// delivery's own transaction, so a message is in the ledger exactly when it is in the mailbox.
// A second run, or the run after an interrupted one, finds every key it stored and copies only
// the rest; two identical copies of one message in one folder are stored once, the second
// counted as skipped.
//
// A message is refused, counted with its reason and the run goes on, when it is empty, larger
// than the message size limit, or would take the account over its quota. Mailboxes are created
// as needed; a source folder with a special use (IMAP LIST's \Sent, \Drafts, \Junk, \Trash,
// \Archive) goes to the account's mailbox of that use, whatever its name.
package importer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

// Store is what an import needs of the metadata store.
type Store interface {
	GetAccount(ctx context.Context, address string) (store.Account, error)
	ListMailboxes(ctx context.Context, accountID int64) ([]store.Mailbox, error)
	CreateMailbox(ctx context.Context, accountID int64, name, specialUse string) (store.Mailbox, error)
	AccountUsage(ctx context.Context, accountID int64) (bytes, messages int64, err error)
	store.ImportLedger
}

// Folder is where a source message comes from: its folder's name in the local form ("/"
// between levels, UTF-8, "INBOX" for the inbox) and its special use, "" or a store.Use value.
type Folder struct {
	Name       string
	SpecialUse string
}

// Message is one message of a source, valid during the visit only.
type Message struct {
	Folder       Folder
	Flags        []string  // IMAP flags: system flags and keywords
	InternalDate time.Time // zero: the time of the import
	// Body is the message's raw octets; the source reads nothing further until it is drained.
	Body io.Reader
}

// Source is a store of mail to import from.
type Source interface {
	// Walk calls visit for each message in order, and stops at the first error visit returns.
	Walk(ctx context.Context, visit func(Message) error) error
}

// Counter is a Source that can tell how many messages it holds, for the progress report.
type Counter interface {
	Count(ctx context.Context) (int64, error)
}

// Importer copies the messages of sources into accounts.
type Importer struct {
	Store     Store
	Committer *delivery.Committer
	// DefaultQuota is the quota, in octets, of an account without its own; 0: none.
	DefaultQuota int64
	// MaxMessageSize refuses larger messages, in octets; 0: no limit.
	MaxMessageSize int64
	// Workers is how many messages are stored at once. Default: 4.
	Workers int
	// TempDir holds the spool files of large messages. Default: os.TempDir().
	TempDir string
	// Progress, when set, is called with the messages done so far and the total (-1: not known).
	Progress func(done, total int64)
	Logger   *slog.Logger // default: none
}

func (im *Importer) logger() *slog.Logger {
	if im.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return im.Logger
}

// Summary is what a run did.
type Summary struct {
	Copied  int64
	Skipped int64 // already in the target mailbox
	// Refused counts the messages not stored, by reason.
	Refused map[string]int64
}

// Refusal reasons of a Summary.
const (
	RefusedEmpty     = "empty message"
	RefusedTooLarge  = "larger than the message size limit"
	RefusedOverQuota = "over the account's quota"
)

func (s Summary) String() string {
	var refused int64
	var reasons []string
	for reason, n := range s.Refused {
		refused += n
		reasons = append(reasons, fmt.Sprintf("%d %s", n, reason))
	}
	out := fmt.Sprintf("%d copied, %d skipped (already there), %d refused", s.Copied, s.Skipped, refused)
	if len(reasons) > 0 {
		out += " (" + strings.Join(reasons, ", ") + ")"
	}
	return out
}

// Import copies every message of src into the account. With mailbox set, the source's folders
// go below it (its INBOX into mailbox itself, special uses ignored); without, they keep their
// names. It returns what was done even when it stops early on an error or a cancelled ctx: what
// was stored stays, and the next run goes on from there.
func (im *Importer) Import(ctx context.Context, src Source, account, mailbox string) (Summary, error) {
	acc, err := im.Store.GetAccount(ctx, account)
	if err != nil {
		return Summary{}, fmt.Errorf("import into %s: %w", account, err)
	}
	q, err := store.GetQuota(ctx, im.Store, acc, im.DefaultQuota)
	if err != nil {
		return Summary{}, fmt.Errorf("import into %s: %w", account, err)
	}
	boxes, err := newMailboxes(ctx, im.Store, acc.ID, mailbox)
	if err != nil {
		return Summary{}, fmt.Errorf("import into %s: %w", account, err)
	}
	total := int64(-1)
	if c, ok := src.(Counter); ok && im.Progress != nil {
		if total, err = c.Count(ctx); err != nil {
			return Summary{}, fmt.Errorf("count messages: %w", err)
		}
	}
	r := &run{im: im, account: acc, quota: q, total: total, sum: Summary{Refused: map[string]int64{}}}
	return r.do(ctx, src, boxes)
}

// run is one Import: the workers and what they counted.
type run struct {
	im      *Importer
	account store.Account
	total   int64

	mu    sync.Mutex
	quota store.QuotaUsage // Used grows with every message stored
	sum   Summary
	done  int64
}

// job is one spooled message for a worker.
type job struct {
	spool   *spool
	mailbox store.Mailbox
	flags   []string
	date    time.Time
}

func (r *run) do(ctx context.Context, src Source, boxes *mailboxes) (Summary, error) {
	workers := r.im.Workers
	if workers <= 0 {
		workers = 4
	}
	dir := r.im.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	free := make(chan *spool, workers+1)
	for range workers + 1 {
		free <- newSpool(dir)
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				if err := r.store(ctx, j); err != nil {
					cancel(err)
				}
				free <- j.spool
			}
		})
	}
	walkErr := src.Walk(ctx, func(m Message) error {
		mb, err := boxes.resolve(ctx, m.Folder)
		if err != nil {
			return err
		}
		var sp *spool
		select {
		case sp = <-free:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		if err := sp.reset(); err != nil {
			free <- sp
			return err
		}
		if _, err := io.Copy(sp, m.Body); err != nil {
			free <- sp
			return fmt.Errorf("read message: %w", err)
		}
		select {
		case jobs <- job{spool: sp, mailbox: mb, flags: importFlags(m.Flags), date: m.InternalDate}:
			return nil
		case <-ctx.Done():
			free <- sp
			return context.Cause(ctx)
		}
	})
	close(jobs)
	wg.Wait()
	for range workers + 1 {
		sp := <-free
		if err := sp.close(); err != nil {
			r.im.logger().Warn("close import spool", "err", err)
		}
	}
	if walkErr == nil {
		walkErr = context.Cause(ctx) // a worker's error after the walk ended
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.sum, walkErr
}

// store stores one spooled message, or counts why not.
func (r *run) store(ctx context.Context, j job) error {
	defer r.progress()
	key := j.spool.key()
	imported, err := r.im.Store.Imported(ctx, j.mailbox.ID, key)
	if err != nil {
		return err
	}
	if imported {
		r.count(func(s *Summary) { s.Skipped++ })
		return nil
	}
	size := j.spool.size
	if reason := r.refusal(size); reason != "" {
		r.count(func(s *Summary) { s.Refused[reason]++ })
		return nil
	}
	draft, err := r.im.Committer.NewDraft(ctx)
	if err != nil {
		return err
	}
	defer draft.Abort()
	if err := j.spool.writeTo(draft); err != nil {
		return fmt.Errorf("write message body: %w", err)
	}
	_, err = draft.Commit(ctx, delivery.Message{InternalDate: j.date, Targets: []store.Target{{
		AccountID: r.account.ID, Mailbox: j.mailbox.Name, Flags: j.flags, ImportKey: key}}})
	if errors.Is(err, store.ErrExists) {
		// Stored by a run at the same time, or a copy of a message of this run.
		r.count(func(s *Summary) { s.Skipped++ })
		return nil
	}
	if err != nil {
		r.unreserve(size)
		return fmt.Errorf("store message in %s: %w", j.mailbox.Name, err)
	}
	r.count(func(s *Summary) { s.Copied++ })
	return nil
}

// refusal says why a message of size octets is refused, "" when it is not, and counts it
// against the quota when it is taken.
func (r *run) refusal(size int64) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case size == 0:
		return RefusedEmpty
	case r.im.MaxMessageSize > 0 && size > r.im.MaxMessageSize:
		return RefusedTooLarge
	case r.quota.Exceeded(size):
		return RefusedOverQuota
	}
	r.quota.Used += size
	return ""
}

func (r *run) unreserve(size int64) {
	r.mu.Lock()
	r.quota.Used -= size
	r.mu.Unlock()
}

func (r *run) count(f func(*Summary)) {
	r.mu.Lock()
	f(&r.sum)
	r.mu.Unlock()
}

func (r *run) progress() {
	r.mu.Lock()
	r.done++
	done := r.done
	r.mu.Unlock()
	if r.im.Progress != nil {
		r.im.Progress(done, r.total)
	}
}

// systemFlags are the IMAP system flags a message can carry (RFC 9051 §2.3.2), \Recent aside.
var systemFlags = []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`}

// importFlags keeps the flags the store can hold: the system flags (in their usual case) and
// keywords that are IMAP atoms (RFC 9051 §9 flag-keyword); \Recent and anything else go.
func importFlags(flags []string) []string {
	var out []string
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) {
			for _, sys := range systemFlags {
				if strings.EqualFold(f, sys) {
					out = append(out, sys)
				}
			}
			continue
		}
		if isAtom(f) {
			out = append(out, f)
		}
	}
	return out
}

// isAtom: RFC 9051 §9 atom: no atom-specials (SP, CTL, "(){%*]\ and the double quote).
func isAtom(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`(){%*]"\`, c) >= 0 {
			return false
		}
	}
	return true
}
