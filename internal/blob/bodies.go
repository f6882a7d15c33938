package blob

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"posthorn/internal/bodystore"
)

// Bodies is s behind the interfaces of internal/bodystore.
func (s *FS) Bodies() bodystore.Store { return bodies{s} }

// bodies adapts FS to bodystore.Store. Its Writers are *Writer.
type bodies struct{ fs *FS }

// fileBody is an open blob file. It is one pointer, so making it a bodystore.Body allocates
// nothing, and its size is asked of the file only when wanted: FETCH and RETR, which open a
// body per message, know the size from the message rows.
type fileBody struct{ *os.File }

func (b fileBody) Size() (int64, error) {
	info, err := b.Stat()
	if err != nil {
		return 0, fmt.Errorf("size of blob %s: %w", filepath.Base(b.Name()), err)
	}
	return info.Size(), nil
}

func (b bodies) Open(_ context.Context, id string) (bodystore.Body, error) {
	f, err := b.fs.Open(id)
	if err != nil {
		return nil, err
	}
	return fileBody{f}, nil
}

func (b bodies) Remove(_ context.Context, id string) error { return b.fs.Remove(id) }

func (b bodies) Create(context.Context) (bodystore.Writer, error) { return b.fs.Create() }

func (b bodies) SyncAll(ctx context.Context, batch []bodystore.Writer) error {
	writers := make([]*Writer, len(batch))
	for i, w := range batch {
		bw, ok := w.(*Writer)
		if !ok {
			return fmt.Errorf("sync body %s: not a body of this store", w.ID())
		}
		writers[i] = bw
	}
	return b.fs.SyncAll(ctx, writers)
}
