package app

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// TestMonitoringExamples: the example dashboard and alert rules parse, and every posthorn
// metric their PromQL names is one the server registers.
func TestMonitoringExamples(t *testing.T) {
	s, _ := startEverything(t)
	descs, err := s.registry.Descriptions()
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]string{}
	for _, d := range descs {
		types[d.Name] = d.Type
	}

	var dashboard struct {
		Title  string            `json:"title"`
		Panels []json.RawMessage `json:"panels"`
	}
	text, err := os.ReadFile("../../docs/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(text, &dashboard); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if dashboard.Title == "" || len(dashboard.Panels) == 0 {
		t.Fatalf("dashboard %q has %d panels", dashboard.Title, len(dashboard.Panels))
	}
	for i, raw := range dashboard.Panels {
		var panel struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		}
		if err := json.Unmarshal(raw, &panel); err != nil {
			t.Fatalf("panel %d: %v", i, err)
		}
		if panel.Title == "" || len(panel.Targets) == 0 {
			t.Errorf("panel %d (%q) has no title or no query", i, panel.Title)
		}
		for _, target := range panel.Targets {
			checkExpr(t, "dashboard panel "+panel.Title, target.Expr, types)
		}
	}

	var rules struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Expr        string            `yaml:"expr"`
				For         string            `yaml:"for"`
				Labels      map[string]string `yaml:"labels"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	text, err = os.ReadFile("../../docs/prometheus-alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(text)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("prometheus-alerts.yml: %v", err)
	}
	var alerts []string
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v lacks a name, a severity or a summary", r)
			}
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("alert %s: for %q: %v", r.Alert, r.For, err)
				}
			}
			checkExpr(t, "alert "+r.Alert, r.Expr, types)
		}
	}
	if len(alerts) == 0 {
		t.Fatal("no alert rules")
	}
}

var metricName = regexp.MustCompile(`posthorn_[a-z0-9_]+`)

// checkExpr fails the test when expr names a posthorn metric that is not registered; a
// histogram's or summary's series (_bucket, _sum, _count) count as theirs.
func checkExpr(t *testing.T, where, expr string, types map[string]string) {
	t.Helper()
	if strings.TrimSpace(expr) == "" {
		t.Errorf("%s: empty expression", where)
		return
	}
	for _, name := range metricName.FindAllString(expr, -1) {
		if _, ok := types[name]; ok {
			continue
		}
		known := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok {
				typ := types[base]
				known = typ == "histogram" || typ == "summary" && suffix != "_bucket"
				break
			}
		}
		if !known {
			t.Errorf("%s names %s, which the server does not register", where, name)
		}
	}
}
