package spam

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"testing"
)

func TestDebugROC(t *testing.T) {
	var tot [3]float64
	for s := uint64(1); s <= 6; s++ {
		corpusSeed = s
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
		for i, fp := range []int{2, 4, 6} {
			th := hp[len(hp)-1-fp] + 1e-9
			n := 0
			for _, v := range sp {
				if v >= th {
					n++
				}
			}
			tot[i] += 100 * float64(n) / float64(len(sp))
		}
	}
	fmt.Printf("avg caught at fp=2: %.2f  fp=4: %.2f  fp=6: %.2f\n", tot[0]/6, tot[1]/6, tot[2]/6)
}
