package spam

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/store"
)

// Trainer defaults.
const (
	// DefaultTrainInterval is how often the Trainer looks for new junk moves.
	DefaultTrainInterval = 30 * time.Second
	// trainerBatch is how many junk moves one transaction consumes.
	trainerBatch = 100
)

// BlobOpener opens stored message bodies; a missing one is bodystore.ErrNotFound or
// fs.ErrNotExist. *blob.FS is one.
type BlobOpener interface {
	Open(id string) (*os.File, error)
}

// Trainer learns from users: it consumes the junk moves the IMAP server records and trains
// the account's model and the global one with each moved message (see the package doc).
type Trainer struct {
	Feed  store.JunkMoveFeed
	Blobs BlobOpener
	// Classifier, if set, has its buffered correspondents written on every round.
	Classifier *Classifier
	// Interval between rounds. Default: DefaultTrainInterval.
	Interval time.Duration
	Logger   *slog.Logger
}

// Run trains at once and then every Interval until ctx ends; it returns nil then. A failed
// round is logged and tried again at the next.
func (t *Trainer) Run(ctx context.Context) error {
	interval := t.Interval
	if interval <= 0 {
		interval = DefaultTrainInterval
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if n, err := t.TrainPending(ctx); err != nil && ctx.Err() == nil {
			t.logger().Warn("spam training", "err", err)
		} else if n > 0 {
			t.logger().Info("spam model trained from junk moves", "messages", n)
		}
		if t.Classifier != nil {
			if err := t.Classifier.FlushCorrespondents(ctx); err != nil && ctx.Err() == nil {
				t.logger().Warn("note correspondents", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (t *Trainer) logger() *slog.Logger {
	if t.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Logger
}

// TrainPending consumes every pending junk move, a batch per transaction, and returns how
// many it trained (moves whose message body is gone are consumed without training).
func (t *Trainer) TrainPending(ctx context.Context) (int, error) {
	trained := 0
	for {
		moves, err := t.Feed.PendingJunkMoves(ctx, trainerBatch)
		if err != nil || len(moves) == 0 {
			return trained, err
		}
		batch := make([]store.SpamTraining, 0, len(moves))
		for _, m := range moves {
			tr, ok, err := t.training(m)
			if err != nil {
				return trained, err
			}
			if ok {
				batch = append(batch, tr)
			}
		}
		if err := t.Feed.ConsumeJunkMoves(ctx, moves, batch); err != nil {
			return trained, err
		}
		if t.Classifier != nil {
			t.Classifier.modelChanged()
		}
		trained += len(batch)
		if len(moves) < trainerBatch {
			return trained, nil
		}
	}
}

// training tokenizes the message of a junk move; ok is false when its body is gone.
func (t *Trainer) training(m store.JunkMove) (tr store.SpamTraining, ok bool, err error) {
	f, err := t.Blobs.Open(m.BlobID)
	if errors.Is(err, bodystore.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		t.logger().Info("junk move of a deleted message skipped", "account", m.AccountID, "blob", m.BlobID)
		return tr, false, nil
	}
	if err != nil {
		return tr, false, fmt.Errorf("open message %s: %w", m.BlobID, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return tr, false, fmt.Errorf("message %s: %w", m.BlobID, err)
	}
	toks, err := Tokenize(f, fi.Size())
	if err != nil {
		return tr, false, fmt.Errorf("message %s: %w", m.BlobID, err)
	}
	if !m.ToJunk && t.Classifier != nil && toks.Features.From != "" {
		t.Classifier.noteCorrespondent(m.AccountID, toks.Features.From)
	}
	return store.SpamTraining{AccountID: m.AccountID, BlobID: m.BlobID, Spam: m.ToJunk, Tokens: toks.Hashes()}, true, nil
}
