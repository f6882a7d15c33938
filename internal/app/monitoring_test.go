package app

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"posthorn/internal/config"
	"posthorn/internal/metrics"
)

var update = flag.Bool("update", false, "rewrite docs/metrics.md from the metrics the server registers")

// startEverything starts a server with every listener on a loopback port of its own, so that
// every subsystem registers its metrics.
func startEverything(t *testing.T) (*Server, Listening) {
	t.Helper()
	return startWith(t, func(*config.Config) {})
}

// startWith starts a server with every listener on a loopback port of its own, and the
// configuration changed by edit; it is shut down when the test ends.
func startWith(t *testing.T, edit func(*config.Config)) (*Server, Listening) {
	t.Helper()
	cfg := config.Default()
	cfg.Hostname = "mx.test.example"
	cfg.DataDir = t.TempDir()
	l := &cfg.Listen
	for _, addr := range []*string{&l.SMTP, &l.Submission, &l.Submissions, &l.IMAP, &l.IMAPS, &l.POP3, &l.POP3S, &l.HTTP} {
		*addr = "127.0.0.1:0"
	}
	edit(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, listening, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	return s, listening
}

const metricsDoc = "../../docs/metrics.md"

// renderMetricsDoc writes docs/metrics.md from the registered metrics.
func renderMetricsDoc(descs []metrics.Description) string {
	return `# posthorn's metrics

Generated from the metrics the server registers (` + "`go test ./internal/app -run TestMetricsDoc -update`" + `);
a test fails when this page and the code differ. Every metric is served at ` + "`GET /metrics`" + ` on
the http listener (loopback, ` + "`http.metrics_networks`" + ` or ` + "`http.metrics_token`" + `) from start, a vector
once it has a series. Counters end in ` + "`_total`" + `, units are in the names (` + "`_seconds`" + `,
` + "`_bytes`" + `). Besides these, client_golang's standard ` + "`go_*`" + ` and ` + "`process_*`" + ` metrics are served.

` + "`docs/grafana-dashboard.json`" + ` is an example dashboard over them and ` + "`docs/prometheus-alerts.yml`" + `
example alert rules; both name only metrics of this page (checked by a test).

` + metrics.Markdown(descs, "posthorn_")
}

// TestMetricsDoc: docs/metrics.md lists exactly the metrics a server with every listener
// registers; -update rewrites it.
func TestMetricsDoc(t *testing.T) {
	s, _ := startEverything(t)
	descs, err := s.registry.Descriptions()
	if err != nil {
		t.Fatal(err)
	}
	want := renderMetricsDoc(descs)
	if *update {
		if err := os.WriteFile(metricsDoc, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(metricsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("%s differs from the registered metrics; run go test ./internal/app -run TestMetricsDoc -update\n"+
			"registered:\n%s", metricsDoc, want)
	}
	// What a scrape shows is part of the list: the list misses nothing that is served.
	families, err := s.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if !slices.ContainsFunc(descs, func(d metrics.Description) bool { return d.Name == f.GetName() }) {
			t.Errorf("served metric %s is not in the descriptions", f.GetName())
		}
	}
	for _, d := range descs {
		if strings.HasPrefix(d.Name, "posthorn_") && d.Type == "counter" && !strings.HasSuffix(d.Name, "_total") {
			t.Errorf("counter %s does not end in _total", d.Name)
		}
		if d.Help == "" {
			t.Errorf("metric %s has no help", d.Name)
		}
	}
}

// TestReadyzInProcess: a server that has started is ready.
func TestReadyzInProcess(t *testing.T) {
	_, listening := startEverything(t)
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get("http://" + listening.HTTP + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode == 200 && string(body) == "ready\n" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz = %d %q", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
