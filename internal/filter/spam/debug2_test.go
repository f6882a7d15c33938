package spam

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
)

func TestDebugExplain(t *testing.T) {
	train, test := splitCorpus(t)
	model := NewMemoryModel()
	trainOn(t, model, 0, train)
	c := New(model, nil, nil, nil, Config{}, nil)
	for _, m := range test {
		if m.name != os.Getenv("MSG") {
			continue
		}
		sc, ex, _ := c.Explain(context.Background(), 0, bytes.NewReader(m.data), int64(len(m.data)), Signals{})
		fmt.Println(sc, ex.Tokens)
		for i, cl := range ex.Clues {
			if i > 40 { break }
			fmt.Printf("%.3f %d/%d %q\n", cl.Prob, cl.Spam, cl.Ham, cl.Token)
		}
	}
}
