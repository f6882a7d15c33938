// Package metrics holds posthorn's Prometheus registry helpers. The metric variables live in
// the packages that own them (smtpserver, queue, filter, ...); this package only keeps the
// registry the server serves at GET /metrics and lists what is registered in it.
//
// A prometheus.Registry answers Gather with the series that have samples only: a counter
// vector with no label values yet is invisible there. Registry remembers every collector
// registered through it, so Descriptions lists every metric the server can report — name,
// type, labels and help — from the moment the server has started, which is what
// docs/metrics.md is generated from (internal/app's TestMetricsDoc, `-update` rewrites it).
package metrics

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Registry is a prometheus.Registry that remembers its collectors.
type Registry struct {
	*prometheus.Registry
	mu         sync.Mutex
	collectors []prometheus.Collector
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry { return &Registry{Registry: prometheus.NewRegistry()} }

// Register registers c and remembers it.
func (r *Registry) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	r.collectors = append(r.collectors, c)
	r.mu.Unlock()
	return nil
}

// MustRegister registers the collectors and panics on the first error, as
// prometheus.Registry.MustRegister does.
func (r *Registry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister unregisters c and forgets it.
func (r *Registry) Unregister(c prometheus.Collector) bool {
	if !r.Registry.Unregister(c) {
		return false
	}
	r.mu.Lock()
	r.collectors = slices.DeleteFunc(r.collectors, func(x prometheus.Collector) bool { return x == c })
	r.mu.Unlock()
	return true
}

// Description is one metric as an operator sees it.
type Description struct {
	Name   string
	Type   string // counter, gauge, histogram, summary, untyped
	Labels []string
	Help   string
}

// Descriptions returns every metric of the registered collectors, sorted by name.
func (r *Registry) Descriptions() ([]Description, error) {
	r.mu.Lock()
	collectors := slices.Clone(r.collectors)
	r.mu.Unlock()
	var out []Description
	for _, c := range collectors {
		types := collectedTypes(c)
		for _, d := range describe(c) {
			desc, err := parseDesc(d)
			if err != nil {
				return nil, err
			}
			desc.Type = typeOf(c, d, types)
			out = append(out, desc)
		}
	}
	slices.SortFunc(out, func(a, b Description) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func describe(c prometheus.Collector) []*prometheus.Desc {
	ch := make(chan *prometheus.Desc)
	go func() {
		c.Describe(ch)
		close(ch)
	}()
	var descs []*prometheus.Desc
	for d := range ch {
		descs = append(descs, d)
	}
	return descs
}

// collectedTypes collects c once and returns the type of each Desc that had a sample.
func collectedTypes(c prometheus.Collector) map[*prometheus.Desc]string {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	types := map[*prometheus.Desc]string{}
	for m := range ch {
		var pb dto.Metric
		if m.Write(&pb) != nil {
			continue
		}
		types[m.Desc()] = sampleType(&pb)
	}
	return types
}

func sampleType(pb *dto.Metric) string {
	switch {
	case pb.Counter != nil:
		return "counter"
	case pb.Gauge != nil:
		return "gauge"
	case pb.Histogram != nil:
		return "histogram"
	case pb.Summary != nil:
		return "summary"
	}
	return "untyped"
}

// typeOf names the type of d: the vectors say it by their Go type, everything else by a
// sample collected from it.
func typeOf(c prometheus.Collector, d *prometheus.Desc, collected map[*prometheus.Desc]string) string {
	switch c.(type) {
	case *prometheus.CounterVec:
		return "counter"
	case *prometheus.GaugeVec:
		return "gauge"
	case *prometheus.HistogramVec:
		return "histogram"
	case *prometheus.SummaryVec:
		return "summary"
	}
	if t, ok := collected[d]; ok {
		return t
	}
	return "untyped"
}

// parseDesc reads the name, help and variable labels from d's String form, the one place
// client_golang shows them:
// Desc{fqName: "…", help: "…", unit: "…", constLabels: {…}, variableLabels: {a,b}}.
func parseDesc(d *prometheus.Desc) (Description, error) {
	s := d.String()
	var desc Description
	var err error
	if desc.Name, s, err = quotedField(s, "Desc{fqName: "); err != nil {
		return desc, fmt.Errorf("metric description %s: %w", d, err)
	}
	if desc.Help, s, err = quotedField(s, ", help: "); err != nil {
		return desc, fmt.Errorf("metric description %s: %w", d, err)
	}
	_, labels, ok := strings.Cut(s, "variableLabels: {")
	if !ok {
		return desc, fmt.Errorf("metric description %s: no variable labels", d)
	}
	labels = strings.TrimSuffix(labels, "}}")
	if labels != "" {
		for _, l := range strings.Split(labels, ",") {
			desc.Labels = append(desc.Labels, strings.TrimSuffix(strings.TrimPrefix(l, "c("), ")"))
		}
	}
	return desc, nil
}

// quotedField reads the Go-quoted string after prefix at the start of s.
func quotedField(s, prefix string) (value, rest string, err error) {
	s, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", "", fmt.Errorf("no %q", strings.TrimSpace(prefix))
	}
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", "", fmt.Errorf("read %q: %w", strings.TrimSpace(prefix), err)
	}
	value, err = strconv.Unquote(q)
	return value, s[len(q):], err
}

// Markdown renders the descriptions whose names start with prefix as a Markdown table.
func Markdown(descs []Description, prefix string) string {
	var b strings.Builder
	b.WriteString("| name | type | labels | meaning |\n|---|---|---|---|\n")
	for _, d := range descs {
		if !strings.HasPrefix(d.Name, prefix) {
			continue
		}
		labels := ""
		if len(d.Labels) > 0 {
			labels = "`" + strings.Join(d.Labels, "`, `") + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", d.Name, d.Type, labels, strings.ReplaceAll(d.Help, "|", `\|`))
	}
	return b.String()
}
