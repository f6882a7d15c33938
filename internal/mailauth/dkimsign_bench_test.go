package mailauth

import (
	"strings"
	"testing"
	"time"
)

// BenchmarkSignDKIM signs a 4 KiB message with an RSA-2048 and an Ed25519 key, as submission
// does for every message, key parsing included.
//
//	go test ./internal/mailauth -run '^$' -bench SignDKIM
func BenchmarkSignDKIM(b *testing.B) {
	keys, err := GenerateDKIMKeys("example.org", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	msg := dkimTestMessage + strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyzABCD\r\n", 52)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := SignDKIM(strings.NewReader(msg), keys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSignDKIMCached is BenchmarkSignDKIM with the keys decoded once, through a
// DKIMKeyCache, as the campaign sender and submission sign.
//
//	go test ./internal/mailauth -run '^$' -bench SignDKIM -benchmem
func BenchmarkSignDKIMCached(b *testing.B) {
	keys, err := GenerateDKIMKeys("example.org", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	msg := dkimTestMessage + strings.Repeat("0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyzABCD\r\n", 52)
	b.SetBytes(int64(len(msg)))
	var cache DKIMKeyCache
	for b.Loop() {
		if _, err := cache.Sign(strings.NewReader(msg), keys); err != nil {
			b.Fatal(err)
		}
	}
}
