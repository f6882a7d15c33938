package spam

import (
	"bytes"
	"context"
	"testing"

	"posthorn/internal/store"
)

// message20K builds a 20 KiB message of corpus text: a plain and an HTML alternative.
func message20K(b *testing.B, train []labelled) []byte {
	var text bytes.Buffer
	for _, m := range train {
		if i := bytes.Index(m.data, []byte("\n\n")); i > 0 && !m.spam {
			text.Write(m.data[i+2:])
		}
		if text.Len() > 12<<10 {
			break
		}
	}
	plain := text.Bytes()[:12<<10]
	var out bytes.Buffer
	out.WriteString("From: Alice <alice@example.net>\r\nTo: bob@example.org\r\nSubject: the report\r\n" +
		"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <r1@example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/alternative; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n")
	out.Write(plain)
	out.WriteString("\r\n--b\r\nContent-Type: text/html\r\n\r\n<html><body><p>")
	out.Write(plain[:min(len(plain), 20<<10-out.Len()-60)])
	out.WriteString("</p></body></html>\r\n--b--\r\n")
	return out.Bytes()
}

// BenchmarkClassify scores a 20 KiB message for an account with the model trained on 70% of
// the labelled corpus, in memory, in SQLite, and in SQLite behind a CachedModel (after the
// first round, every lookup hits the cache).
func BenchmarkClassify(b *testing.B) {
	train, _ := splitCorpus(b)
	m := message20K(b, train)
	b.Logf("message: %d octets", len(m))
	st, alice := openStore(b)
	for _, bc := range []struct {
		name  string
		model store.SpamModel
	}{{"memory", NewMemoryModel()}, {"sqlite", st}, {"sqlite-cached", NewCachedModel(st)}} {
		if bc.name != "sqlite-cached" { // the same store as sqlite
			trainOn(b, bc.model, 0, train)
			trainOn(b, bc.model, alice.ID, train[:200])
		}
		c := New(bc.model, nil, nil, nil, Config{}, nil)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(m)))
			for b.Loop() {
				if _, err := c.Classify(context.Background(), alice.ID, bytes.NewReader(m), int64(len(m)), Signals{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTrain trains the SQLite model with 200 messages per transaction.
func BenchmarkTrain(b *testing.B) {
	train, _ := splitCorpus(b)
	st, alice := openStore(b)
	var batch []store.SpamTraining
	for _, m := range train[:200] {
		batch = append(batch, store.SpamTraining{AccountID: alice.ID, Spam: m.spam, Tokens: tokenize(b, m.data).Hashes()})
	}
	for b.Loop() {
		if err := st.TrainSpam(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch))/1e3, "µs/message")
}
