package admin

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/filter/spam"
	"posthorn/internal/operr"
)

func TestSpamLists(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	if err := a.AddSpamListEntry(ctx, "alice@example.org", "@Friends.example", false); err != nil {
		t.Fatal(err)
	}
	if err := a.AddSpamListEntry(ctx, "alice@example.org", "Spammer@bad.example", true); err != nil {
		t.Fatal(err)
	}
	err := a.AddSpamListEntry(ctx, "alice@example.org", "@friends.example", true)
	wantError(t, "on the other list", err, operr.Exists, "entry", "@friends.example is already on the allow list")
	err = a.AddSpamListEntry(ctx, "alice@example.org", "spammer@bad.example", false)
	wantError(t, "on the block list", err, operr.Exists, "entry", "spammer@bad.example is already on the block list")
	err = a.AddSpamListEntry(ctx, "nobody@example.org", "@friends.example", false)
	wantError(t, "unknown account", err, operr.NotFound, "account", "unknown user nobody@example.org")

	if list, err := a.SpamList(ctx, "alice@example.org", false); err != nil || !slices.Equal(list, []string{"@friends.example"}) {
		t.Errorf("allow list: %v, %v", list, err)
	}
	if list, err := a.SpamList(ctx, "alice@example.org", true); err != nil || !slices.Equal(list, []string{"spammer@bad.example"}) {
		t.Errorf("block list: %v, %v", list, err)
	}
	if err := a.RemoveSpamListEntry(ctx, "alice@example.org", "spammer@bad.example", true); err != nil {
		t.Fatal(err)
	}
	err = a.RemoveSpamListEntry(ctx, "alice@example.org", "spammer@bad.example", true)
	wantError(t, "remove again", err, operr.NotFound, "entry", "spammer@bad.example is not on the block list")
}

// corpus writes n messages, one per file, into a new directory.
func corpus(t *testing.T, n int, words string) string {
	t.Helper()
	dir := t.TempDir()
	for i := range n {
		text := fmt.Sprintf("From: sender%d@example.net\r\nSubject: %s %d\r\n\r\n%s\r\n", i, words, i, strings.Repeat(words+" ", 20))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprint(i)), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestTrainAndExplainSpam(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	if n, err := a.TrainSpam(ctx, "", corpus(t, 5, "cheap pills casino winner"), true); err != nil || n != 5 {
		t.Fatalf("TrainSpam spam: %d, %v", n, err)
	}
	if n, err := a.TrainSpam(ctx, "alice@example.org", corpus(t, 3, "meeting agenda minutes project"), false); err != nil || n != 3 {
		t.Fatalf("TrainSpam ham: %d, %v", n, err)
	}
	global, acc, err := a.SpamTotals(ctx, "alice@example.org")
	if err != nil || global.Spam != 5 || global.Ham != 3 || acc.Ham != 3 || acc.Spam != 0 {
		t.Errorf("SpamTotals: global %+v, alice %+v, %v", global, acc, err)
	}
	_, err = a.TrainSpam(ctx, "", t.TempDir(), true)
	if !errors.Is(err, spam.ErrEmptyCorpus) {
		t.Errorf("TrainSpam of an empty directory: %v, want spam.ErrEmptyCorpus", err)
	}
	_, err = a.TrainSpam(ctx, "nobody@example.org", corpus(t, 1, "x"), true)
	wantError(t, "unknown account", err, operr.NotFound, "account", "unknown user nobody@example.org")

	msg := strings.NewReader("From: x@example.net\r\nSubject: casino winner\r\n\r\ncheap pills casino winner\r\n")
	_, ex, err := a.ExplainSpam(ctx, "alice@example.org", msg, msg.Size())
	if err != nil {
		t.Fatal(err)
	}
	if ex.Global != global || ex.Account != acc || ex.Tokens == 0 {
		t.Errorf("ExplainSpam: explanation %+v; want the models of alice and the global one", ex)
	}
	_, _, err = a.ExplainSpam(ctx, "nobody@example.org", msg, msg.Size())
	wantError(t, "explain for unknown", err, operr.NotFound, "account", "unknown user nobody@example.org")
}
