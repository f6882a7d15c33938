package mailauth

import (
	"crypto/sha256"
	"hash"
	"io"
	"sync"
)

// bodyForm is one way of hashing a body for a signature's bh= (RFC 6376 §3.7): simple or
// relaxed body canonicalization (§3.4.3, §3.4.4), and the l= length of canonical body hashed,
// or -1 for all of it.
type bodyForm struct {
	relaxed bool
	limit   int64
}

// bodyHashes holds the SHA-256 body hashes of one message, so that every DKIM signature and
// ARC-Message-Signature of it that asks for the same form shares one computation. The forms a
// caller needs together are computed in one read of the body. It is safe for concurrent use:
// the DKIM and ARC checks of Verifier.Message run at the same time, and the second to ask for
// a form waits for the first rather than hashing the body again.
type bodyHashes struct {
	msg          io.ReaderAt
	offset, size int64

	mu   sync.Mutex
	sums map[bodyForm][]byte
}

// newBodyHashes returns the body hashes of msg, size bytes long, whose body starts at offset
// (the length of the header section).
func newBodyHashes(msg io.ReaderAt, offset, size int64) *bodyHashes {
	return &bodyHashes{msg: msg, offset: min(offset, size), size: size, sums: map[bodyForm][]byte{}}
}

// hashes returns the hash of the body in each form, in order, computing those not known yet in
// one pass over the body.
func (b *bodyHashes) hashes(forms ...bodyForm) ([][]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var missing []bodyForm
	for _, f := range forms {
		if _, ok := b.sums[f]; !ok && !containsForm(missing, f) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		if err := b.compute(missing); err != nil {
			return nil, err
		}
	}
	out := make([][]byte, len(forms))
	for i, f := range forms {
		out[i] = b.sums[f]
	}
	return out, nil
}

// hash returns the hash of the body in one form.
func (b *bodyHashes) hash(f bodyForm) ([]byte, error) {
	h, err := b.hashes(f)
	if err != nil {
		return nil, err
	}
	return h[0], nil
}

// compute reads the body once and feeds every form's canonicalizer from the same buffer.
func (b *bodyHashes) compute(forms []bodyForm) error {
	sums := make([]hash.Hash, len(forms))
	canons := make([]*bodyCanonicalizer, len(forms))
	for i, f := range forms {
		sums[i] = sha256.New()
		canons[i] = &bodyCanonicalizer{w: &limitWriter{w: sums[i], n: f.limit}, relaxed: f.relaxed}
	}
	buf := make([]byte, 32<<10)
	r := io.NewSectionReader(b.msg, b.offset, b.size-b.offset)
	for {
		n, err := r.Read(buf)
		for _, c := range canons {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	for i, c := range canons {
		if err := c.Close(); err != nil {
			return err
		}
		b.sums[forms[i]] = sums[i].Sum(nil)
	}
	return nil
}

func containsForm(forms []bodyForm, f bodyForm) bool {
	for _, x := range forms {
		if x == f {
			return true
		}
	}
	return false
}
