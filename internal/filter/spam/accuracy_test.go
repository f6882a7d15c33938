package spam

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/testutil"
)

// corpusSeed fixes the split of the labelled corpus into training and test messages, and
// trainPercent is the share of each class that trains.
const corpusSeed = 20260101

const trainPercent = 70

// labelled is one message of the shared corpus.
type labelled struct {
	name string
	data []byte
	spam bool
}

// splitCorpus reads shared/testdata/spam/{spam,ham} and splits each class with a fixed seed:
// trainPercent trains, the rest is classified.
func splitCorpus(t testing.TB) (train, test []labelled) {
	dir := sharedSpam(t)
	for _, class := range []struct {
		sub  string
		spam bool
	}{{"spam", true}, {"ham", false}} {
		var msgs []labelled
		if _, err := ReadCorpus(filepath.Join(dir, class.sub), func(name string, msg []byte) error {
			msgs = append(msgs, labelled{filepath.Base(name), msg, class.spam})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		sort.Slice(msgs, func(i, j int) bool { return msgs[i].name < msgs[j].name })
		rng := rand.New(rand.NewPCG(corpusSeed, uint64(len(msgs))))
		rng.Shuffle(len(msgs), func(i, j int) { msgs[i], msgs[j] = msgs[j], msgs[i] })
		half := len(msgs) * trainPercent / 100
		train = append(train, msgs[:half]...)
		test = append(test, msgs[half:]...)
	}
	return train, test
}

// trainOn trains model with msgs as account accountID, in batches.
func trainOn(t testing.TB, model store.SpamModel, accountID int64, msgs []labelled) {
	var batch []store.SpamTraining
	for _, m := range msgs {
		toks, err := Tokenize(bytes.NewReader(m.data), int64(len(m.data)))
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, store.SpamTraining{AccountID: accountID, Spam: m.spam, Tokens: toks.Hashes()})
	}
	if err := model.TrainSpam(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

// TestCorpusAccuracy trains on 70% of the labelled corpus and classifies the other half at
// the default thresholds. Goal: at least 97% of spam caught, at most 0.5% of ham in Junk.
func TestCorpusAccuracy(t *testing.T) {
	train, test := splitCorpus(t)
	model := NewMemoryModel()
	trainOn(t, model, 0, train)
	c := New(model, nil, nil, nil, Config{}, nil)
	var spam, ham, caught, misfiled int
	for _, m := range test {
		sc, err := c.Classify(context.Background(), 0, bytes.NewReader(m.data), int64(len(m.data)), Signals{})
		if err != nil {
			t.Fatal(err)
		}
		if m.spam {
			spam++
			if sc.Spam {
				caught++
			} else if testing.Verbose() {
				t.Logf("spam missed: %s %s", m.name, sc)
			}
		} else {
			ham++
			if sc.Spam {
				misfiled++
				t.Logf("ham misfiled: %s %s", m.name, sc)
			}
		}
	}
	caughtPct := 100 * float64(caught) / float64(spam)
	misfiledPct := 100 * float64(misfiled) / float64(ham)
	t.Logf("trained on %d, tested %d spam and %d ham: spam caught %.2f%% (%d), ham misfiled %.2f%% (%d)",
		len(train), spam, ham, caughtPct, caught, misfiledPct, misfiled)
	// The samples beside the corpus: GTUBE is spam, its non-spam counterpart not.
	for name, spam := range map[string]bool{"sample-spam.txt": true, "sample-nonspam.txt": false} {
		data, err := os.ReadFile(filepath.Join(sharedSpam(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if sc, err := c.Classify(context.Background(), 0, bytes.NewReader(data), int64(len(data)), Signals{}); err != nil || sc.Spam != spam {
			t.Errorf("%s: %s (%v), want spam %v", name, sc, err, spam)
		}
	}
	if caughtPct < 97 || misfiledPct > 0.5 {
		t.Errorf("accuracy below the goal: spam caught %.2f%% (want >= 97%%), ham misfiled %.2f%% (want <= 0.5%%)", caughtPct, misfiledPct)
	}
}

// TestGTUBE: the GTUBE sample scores as spam even with an untrained model.
func TestGTUBE(t *testing.T) {
	dir := sharedSpam(t)
	c := New(NewMemoryModel(), nil, nil, nil, Config{}, nil)
	for _, name := range []string{"sample-spam.txt"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sc, err := c.Classify(context.Background(), 0, bytes.NewReader(data), int64(len(data)), Signals{})
		if err != nil {
			t.Fatal(err)
		}
		if !sc.Spam || sc.Reasons[0].Name != "gtube" {
			t.Errorf("%s: %s, want spam by gtube", name, sc)
		}
	}
}

// sharedSpam is the labelled corpus: shared/testdata/spam beside the repository.
func sharedSpam(t testing.TB) string { return testutil.SharedTestdata(t, "spam") }
