package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchHandler serves path through the handler of e, b.N times, from one client.
func benchHandler(b *testing.B, e *publicEnv, method, path string, want int) {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != want {
			b.Fatalf("%s %s = %d", method, path, rec.Code)
		}
	}
	b.StopTimer()
	e.close() // the events buffered are recorded outside the timing
}

// BenchmarkPixel: a valid open pixel (verify, one read of the recipient, a buffered event).
func BenchmarkPixel(b *testing.B) {
	e := newPublicEnv(b)
	benchHandler(b, e, "GET", pathOf(b, e.links0(e.carol).OpenURL()), http.StatusOK)
}

// BenchmarkPixelForged: a forged pixel (verify only).
func BenchmarkPixelForged(b *testing.B) {
	e := newPublicEnv(b)
	benchHandler(b, e, "GET", "/t/o/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.gif", http.StatusOK)
}

// BenchmarkClick: a valid click (verify against the cached link table, one read of the
// recipient, classification, a buffered event, the redirect).
func BenchmarkClick(b *testing.B) {
	e := newPublicEnv(b)
	benchHandler(b, e, "GET", pathOf(b, e.links0(e.carol).ClickURL(1, e.links[0])), http.StatusFound)
}
