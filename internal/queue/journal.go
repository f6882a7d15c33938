package queue

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// doneJournal makes "delivered" durable in one write right after the remote server's 250, so
// that a crash duplicates only what falls between that 250 and this write (see the package
// doc). It is a file of queue row ids, one decimal number and a newline each, appended and
// fdatasync'd by group commit: a caller finding no write in progress writes every id waiting,
// its own and those of the callers that arrive meanwhile, in one write and one fdatasync.
//
// The rows' removal from the store (QueueDone) follows asynchronously, in groups. Once every id
// written has been removed, the file is emptied. At start, the ids it still holds are removed
// from the store before any row is read: they were delivered.
type doneJournal struct {
	f *os.File

	mu          sync.Mutex
	writing     bool
	pending     []byte       // records waiting for the next write
	waiters     []chan error // their callers
	outstanding int          // ids written and not yet removed from the store
	size        int64        // octets in the file
}

// journalTruncateAt is the size above which the journal is emptied once nothing in it is
// outstanding.
const journalTruncateAt = 64 << 10

// openDoneJournal opens (creating) the journal at path and returns it with the ids it holds.
// A last line without its newline is a write cut by a crash; its id was never acknowledged to
// anyone and is ignored.
func openDoneJournal(path string) (*doneJournal, []int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open delivery journal: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("read delivery journal: %w", err)
	}
	var ids []int64
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if id, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil && id > 0 {
			ids = append(ids, id)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' && len(ids) > 0 {
		// The scanner returned the cut last line as a line of its own.
		last := data[bytes.LastIndexByte(data, '\n')+1:]
		if id, err := strconv.ParseInt(string(last), 10, 64); err == nil && ids[len(ids)-1] == id {
			ids = ids[:len(ids)-1]
		}
	}
	return &doneJournal{f: f, size: int64(len(data))}, ids, nil
}

// reset empties the journal, once the ids it held (openDoneJournal) are removed from the store.
func (j *doneJournal) reset() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("empty delivery journal: %w", err)
	}
	j.size = 0
	return j.f.Sync()
}

// append makes ids durable in the journal; it returns after their fdatasync.
func (j *doneJournal) append(ids []int64) error {
	var rec []byte
	for _, id := range ids {
		rec = strconv.AppendInt(rec, id, 10)
		rec = append(rec, '\n')
	}
	done := make(chan error, 1)
	j.mu.Lock()
	j.pending = append(j.pending, rec...)
	j.waiters = append(j.waiters, done)
	j.outstanding += len(ids)
	if !j.writing {
		j.writing = true
		j.writeLoop() // returns with j.mu unlocked
	} else {
		j.mu.Unlock()
	}
	return <-done
}

// writeLoop writes what is pending until nothing is; called with j.mu held and j.writing set,
// it returns with j.mu released.
func (j *doneJournal) writeLoop() {
	for len(j.waiters) > 0 {
		data, waiters := j.pending, j.waiters
		j.pending, j.waiters = nil, nil
		j.mu.Unlock()
		_, err := j.f.Write(data)
		if err == nil {
			err = unix.Fdatasync(int(j.f.Fd()))
		}
		if err != nil {
			err = fmt.Errorf("write delivery journal: %w", err)
		}
		j.mu.Lock()
		j.size += int64(len(data))
		for _, w := range waiters {
			w <- err
		}
	}
	j.writing = false
	j.mu.Unlock()
}

// removed notes that n ids written to the journal are now removed from the store; when none is
// left and the file has grown, it is emptied (not fsync'd: ids of removed rows that come back
// after a crash are removed again, which changes nothing).
func (j *doneJournal) removed(n int) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.outstanding -= n
	if j.outstanding > 0 || j.writing || j.size < journalTruncateAt {
		return nil
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("empty delivery journal: %w", err)
	}
	j.size = 0
	return nil
}

func (j *doneJournal) close() error { return j.f.Close() }
