package spam

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"posthorn/internal/store"
)

// maxCorpusMessage is the largest message a corpus may hold; larger ones are skipped.
const maxCorpusMessage = 32 << 20

// ErrEmptyCorpus is returned for a corpus without any message.
var ErrEmptyCorpus = errors.New("no messages")

// ReadCorpus calls fn with every message of a corpus: a directory whose regular files are one
// message each (a maildir's cur/ and new/ included; names starting with "." are skipped), or
// an mbox file (mboxrd: "From " lines separate messages, ">From " lines are unquoted). It
// returns the number of messages, and ErrEmptyCorpus when there is none.
func ReadCorpus(path string, fn func(name string, msg []byte) error) (int, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	var n int
	if fi.IsDir() {
		n, err = readDir(path, fn)
	} else {
		n, err = readMbox(path, fn)
	}
	if err == nil && n == 0 {
		err = fmt.Errorf("%s: %w", path, ErrEmptyCorpus)
	}
	return n, err
}

func readDir(dir string, fn func(string, []byte) error) (int, error) {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), ".") && p != dir {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	sort.Strings(names)
	n := 0
	for _, p := range names {
		fi, err := os.Stat(p)
		if err != nil {
			return n, err
		}
		if fi.Size() == 0 || fi.Size() > maxCorpusMessage {
			continue
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return n, err
		}
		if err := fn(p, data); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// readMbox splits an mbox file into messages.
func readMbox(path string, fn func(string, []byte) error) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	first, err := br.Peek(5)
	if err != nil || string(first) != "From " {
		return 0, fmt.Errorf("%s: not a directory or an mbox file (no \"From \" line at its start)", path)
	}
	var msg bytes.Buffer
	n := 0
	flush := func() error {
		if msg.Len() == 0 {
			return nil
		}
		n++
		if msg.Len() > maxCorpusMessage {
			msg.Reset()
			return nil
		}
		data := bytes.Clone(msg.Bytes())
		msg.Reset()
		return fn(fmt.Sprintf("%s#%d", path, n), data)
	}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			switch {
			case bytes.HasPrefix(line, []byte("From ")):
				if ferr := flush(); ferr != nil {
					return n, ferr
				}
			case isQuotedFrom(line):
				msg.Write(line[1:])
			default:
				if msg.Len() <= maxCorpusMessage {
					msg.Write(line)
				}
			}
		}
		if err == io.EOF {
			return n, flush()
		}
		if err != nil {
			return n, err
		}
	}
}

// isQuotedFrom reports a mboxrd-quoted ">From " line (any number of '>').
func isQuotedFrom(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return i > 0 && bytes.HasPrefix(line[i:], []byte("From "))
}

// Trainer batches: how many messages one training transaction holds.
const trainBatch = 200

// TrainCorpus trains the model of accountID (0: the global model only) with every message of
// the corpus at path as spam or ham, in batches of one transaction each, and returns how many
// messages it trained.
func TrainCorpus(ctx context.Context, model store.SpamModel, accountID int64, path string, isSpam bool) (int, error) {
	var batch []store.SpamTraining
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := model.TrainSpam(ctx, batch)
		batch = batch[:0]
		return err
	}
	n, err := ReadCorpus(path, func(name string, msg []byte) error {
		toks, err := Tokenize(bytes.NewReader(msg), int64(len(msg)))
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		batch = append(batch, store.SpamTraining{AccountID: accountID, Spam: isSpam, Tokens: toks.Hashes()})
		if len(batch) >= trainBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	return n, flush()
}
