package mailauth

import (
	"context"
	"io"
)

func (v *Verifier) arcResult(ctx context.Context, fields []headerField, msg io.ReaderAt, size int64) ARCResult {
	return ARCResult{Status: StatusNone}
}

func (v *Verifier) arcOverride(res *Results) {}
