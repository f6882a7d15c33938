package render

import (
	"bytes"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/address"
)

// testLinks makes recipient-specific URLs and records the clicks it was asked for.
type testLinks struct {
	id string

	mu     sync.Mutex
	clicks map[int]string // idx -> target
}

func newTestLinks(id string) *testLinks { return &testLinks{id: id, clicks: map[int]string{}} }

func (l *testLinks) UnsubscribeURL() string { return "https://news.example.org/u/" + l.id }
func (l *testLinks) ViewURL() string        { return "https://news.example.org/t/v/" + l.id }
func (l *testLinks) PreferencesURL() string { return "https://news.example.org/p/" + l.id }
func (l *testLinks) OpenURL() string        { return "https://news.example.org/t/o/" + l.id + ".gif" }
func (l *testLinks) ClickURL(idx int, target string) string {
	l.mu.Lock()
	l.clicks[idx] = target
	l.mu.Unlock()
	return fmt.Sprintf("https://news.example.org/t/c/%s-%d", l.id, idx)
}
func (l *testLinks) UnsubscribeMailto() string { return "unsubscribe+" + l.id + "@example.org" }

func mustAddress(t testing.TB, s string) address.Address {
	t.Helper()
	a, err := address.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func testContent(t testing.TB) Content {
	return Content{
		Campaign:   "November news",
		Subject:    "News for {{.Name}}",
		From:       mustAddress(t, "news@example.org"),
		FromName:   "Example News",
		ReplyTo:    mustAddress(t, "editor@example.org"),
		ListID:     ListID("Monthly News", "example.org"),
		ListName:   "Monthly News",
		FeedbackID: FeedbackID("c42", "l7", "posthorn"),
		Tracking:   true,
		Now:        func() time.Time { return time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) },
	}
}

func compile(t testing.TB, c Content) *Campaign {
	t.Helper()
	camp, err := Compile(c)
	if err != nil {
		t.Fatal(err)
	}
	return camp
}

func recipient(t testing.TB, addr, name string, attrs map[string]any) Recipient {
	return Recipient{Address: mustAddress(t, addr), Name: name, Attributes: attrs, Lists: []string{"Monthly News"}, Tracking: true}
}

func countOf(s, sub string) int { return strings.Count(s, sub) }

func newQPReader(b []byte) io.Reader { return quotedprintable.NewReader(bytes.NewReader(b)) }

func mustReadAll(t testing.TB, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
