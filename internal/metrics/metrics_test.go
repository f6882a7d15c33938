package metrics

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestDescriptions: every registered metric is listed with its type and labels, also a vector
// with no series yet, which Gather would not show.
func TestDescriptions(t *testing.T) {
	r := NewRegistry()
	r.MustRegister(
		prometheus.NewCounterVec(prometheus.CounterOpts{Name: "posthorn_b_total", Help: `b "quoted" | piped`}, []string{"reason", "stage"}),
		prometheus.NewGauge(prometheus.GaugeOpts{Name: "posthorn_a", Help: "a"}),
		prometheus.NewHistogram(prometheus.HistogramOpts{Name: "posthorn_c_seconds", Help: "c"}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "posthorn_d", Help: "d"}, func() float64 { return 1 }),
	)
	got, err := r.Descriptions()
	if err != nil {
		t.Fatal(err)
	}
	want := []Description{
		{Name: "posthorn_a", Type: "gauge", Help: "a"},
		{Name: "posthorn_b_total", Type: "counter", Labels: []string{"reason", "stage"}, Help: `b "quoted" | piped`},
		{Name: "posthorn_c_seconds", Type: "histogram", Help: "c"},
		{Name: "posthorn_d", Type: "gauge", Help: "d"},
	}
	if !slices.EqualFunc(got, want, func(a, b Description) bool {
		return a.Name == b.Name && a.Type == b.Type && a.Help == b.Help && slices.Equal(a.Labels, b.Labels)
	}) {
		t.Fatalf("descriptions\n%+v\nwant\n%+v", got, want)
	}
	md := Markdown(got, "posthorn_")
	if want := "| `posthorn_b_total` | counter | `reason`, `stage` | b \"quoted\" \\| piped |\n"; !strings.Contains(md, want) {
		t.Errorf("markdown %q lacks %q", md, want)
	}
}
