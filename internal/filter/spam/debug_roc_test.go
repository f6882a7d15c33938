package spam

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"testing"
)

func TestDebugROC(t *testing.T) {
	train, test := splitCorpus(t)
	model := NewMemoryModel()
	trainOn(t, model, 0, train)
	c := New(model, nil, nil, nil, Config{}, nil)
	var sp, hp []float64
	for _, m := range test {
		sc, _ := c.Classify(context.Background(), 0, bytes.NewReader(m.data), int64(len(m.data)), Signals{})
		if m.spam {
			sp = append(sp, sc.Value)
		} else {
			hp = append(hp, sc.Value)
		}
	}
	sort.Float64s(sp)
	sort.Float64s(hp)
	// For each FP allowance, the best threshold's catch rate.
	for _, fp := range []int{0, 1, 3, 5, 7, 10, 14} {
		th := hp[len(hp)-1-fp] + 1e-9
		n := 0
		for _, v := range sp {
			if v >= th {
				n++
			}
		}
		fmt.Printf("fp=%d threshold=%.3f caught=%.2f%%\n", fp, th, 100*float64(n)/float64(len(sp)))
	}
	fmt.Println("top ham", hp[len(hp)-10:])
}
