package bodystore

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// NewID makes a new body id for a body created at t: "YYYYMMDD-" (t's day in UTC) followed by
// 24 random lower-case hex digits. Every backend makes its ids so, and the metadata names a
// body by it (the blob_id columns), so bodies can move between backends (backup and restore)
// under their ids, and a backend can tell the day a body was created from its id alone.
func NewID(t time.Time) (string, error) {
	var random [12]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", fmt.Errorf("body id: %w", err)
	}
	return t.UTC().Format("20060102") + "-" + hex.EncodeToString(random[:]), nil
}

// ValidID reports whether id has the shape NewID gives, so that a name from outside (a
// protocol's row, an archive) can be checked before it becomes a path or a query.
func ValidID(id string) bool {
	day, random, ok := strings.Cut(id, "-")
	if !ok || len(day) != 8 || len(random) != 24 {
		return false
	}
	for _, c := range day + random {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
