package campaign

import (
	"context"
	"errors"
	"strconv"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// ListByID finds a list by its id (the JSON API names lists so), as operr.NotFound for field
// "id".
func (s *Service) ListByID(ctx context.Context, id int64) (store.List, error) {
	l, err := s.Store.GetListByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.List{}, operr.New(operr.NotFound, "id", strconv.FormatInt(id, 10), err, "unknown list %d", id)
	}
	return l, err
}
