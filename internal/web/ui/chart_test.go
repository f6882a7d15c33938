package ui

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"testing"
)

// svgNode is an element of a parsed chart, with its attributes and its text.
type svgNode struct {
	Name  string
	Attrs map[string]string
	Text  string
}

// parseSVG parses a chart as XML, failing the test when it is not well-formed, and returns its
// elements in document order.
func parseSVG(t *testing.T, svg string) []*svgNode {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	d.Strict = true
	var nodes, open []*svgNode
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("the chart is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &svgNode{Name: tok.Name.Local, Attrs: map[string]string{}}
			for _, a := range tok.Attr {
				n.Attrs[a.Name.Local] = a.Value
			}
			nodes, open = append(nodes, n), append(open, n)
		case xml.EndElement:
			open = open[:len(open)-1]
		case xml.CharData:
			if len(open) > 0 {
				open[len(open)-1].Text += string(tok)
			}
		}
	}
	if len(nodes) == 0 || nodes[0].Name != "svg" {
		t.Fatalf("no svg element:\n%s", svg)
	}
	return nodes
}

func elements(nodes []*svgNode, name, class string) []*svgNode {
	var out []*svgNode
	for _, n := range nodes {
		if n.Name == name && (class == "" || strings.Contains(" "+n.Attrs["class"]+" ", " "+class+" ")) {
			out = append(out, n)
		}
	}
	return out
}

func attrFloat(t *testing.T, n *svgNode, name string) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(n.Attrs[name], 64)
	if err != nil {
		t.Fatalf("%s %s=%q: %v", n.Name, name, n.Attrs[name], err)
	}
	return f
}

// TestChartBars: one segment per value above 0, stacked, heights proportional to the values,
// a legend entry per series, and neither style attributes nor elements (the CSP).
func TestChartBars(t *testing.T) {
	c := Chart{ID: "in-out", Title: "Messages", Labels: []string{"10:00", "11:00", "12:00", "13:00"},
		Series: []Series{{Name: "in", Values: []int64{2, 4, 0, 8}}, {Name: "out", Values: []int64{1, 0, 0, 0}}}}
	svg := string(c.SVG())
	nodes := parseSVG(t, svg)
	if nodes[0].Attrs["id"] != "in-out" || nodes[0].Attrs["role"] != "img" {
		t.Errorf("svg attributes %v", nodes[0].Attrs)
	}
	bars := elements(nodes, "rect", "bar")
	if len(bars) != 4 {
		t.Fatalf("%d bars, want 4:\n%s", len(bars), svg)
	}
	// Per unit of value, every segment has the same height.
	unit := attrFloat(t, bars[0], "height") / 2
	for _, b := range bars {
		v := attrFloat(t, b, "data-value")
		if h := attrFloat(t, b, "height"); math.Abs(h-v*unit) > 0.02 {
			t.Errorf("bar of %v is %v high, want %v", v, h, v*unit)
		}
	}
	// The first hour's "out" sits on its "in".
	if in, out := bars[0], bars[1]; math.Abs(attrFloat(t, out, "y")+attrFloat(t, out, "height")-attrFloat(t, in, "y")) > 0.02 ||
		out.Attrs["fill"] == in.Attrs["fill"] {
		t.Errorf("stacking: in %v, out %v", in.Attrs, out.Attrs)
	}
	// The busiest bar (8) reaches the top of the scale (8 in steps of 2) at the plot's top.
	if y := attrFloat(t, bars[3], "y"); math.Abs(y-chartTop) > 0.02 {
		t.Errorf("the highest bar starts at y=%v, want %d", y, chartTop)
	}
	if got := elements(nodes, "title", ""); len(got) != 5 || got[1].Text != "10:00: in 2" {
		t.Errorf("titles %v", got)
	}
	var legend []string
	for _, n := range elements(nodes, "text", "") {
		legend = append(legend, n.Text)
	}
	joined := strings.Join(legend, "|")
	for _, want := range []string{"in", "out", "10:00", "13:00", "0", "8"} {
		if !strings.Contains("|"+joined+"|", "|"+want+"|") {
			t.Errorf("no text %q among %q", want, joined)
		}
	}
	if strings.Contains(svg, "style") || strings.Contains(svg, "<script") {
		t.Errorf("style or script in the chart:\n%s", svg)
	}
}

// TestChartLines: one polyline per series with a point per label, scaled as the bars.
func TestChartLines(t *testing.T) {
	c := Chart{ID: "q", Title: "Lines", Kind: Lines, Labels: []string{"a", "b", "c"},
		Series: []Series{{Name: "x", Values: []int64{0, 5, 10}}, {Name: "y", Values: []int64{10}}}}
	nodes := parseSVG(t, string(c.SVG()))
	lines := elements(nodes, "polyline", "line")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	pts := strings.Fields(lines[0].Attrs["points"])
	if len(pts) != 3 {
		t.Fatalf("points %q", pts)
	}
	y := func(p string) float64 {
		f, _ := strconv.ParseFloat(p[strings.IndexByte(p, ',')+1:], 64)
		return f
	}
	bottom := float64(chartTop + chartPlot)
	if math.Abs(y(pts[0])-bottom) > 0.02 || math.Abs((bottom-y(pts[1]))*2-(bottom-y(pts[2]))) > 0.02 {
		t.Errorf("points not proportional: %q", pts)
	}
	if got := len(elements(nodes, "circle", "")); got != 6 {
		t.Errorf("%d dots, want 6", got)
	}
}

// TestChartEmpty: no series, no labels, or only zeros: a frame that says "no data".
func TestChartEmpty(t *testing.T) {
	for name, c := range map[string]Chart{
		"no series": {ID: "a", Title: "Empty", Labels: []string{"1", "2"}},
		"no labels": {ID: "b", Title: "Empty", Series: []Series{{Name: "in"}}},
		"zeros":     {ID: "c", Title: "Empty", Labels: []string{"1", "2"}, Series: []Series{{Name: "in", Values: []int64{0, 0}}}},
		"lines":     {ID: "d", Title: "Empty", Kind: Lines, Labels: []string{"1"}, Series: []Series{{Name: "in", Values: []int64{0}}}},
	} {
		nodes := parseSVG(t, string(c.SVG()))
		nd := elements(nodes, "text", "nodata")
		if len(nd) != 1 || nd[0].Text != "no data" {
			t.Errorf("%s: no 'no data' label", name)
		}
		if n := len(elements(nodes, "rect", "bar")) + len(elements(nodes, "polyline", "")); n != 0 {
			t.Errorf("%s: %d bars or lines drawn", name, n)
		}
	}
}

// TestChartEscapes: hostile text in the title, the labels and the series' names stays text,
// and the chart stays well-formed; a hostile id loses what is not a letter, digit or dash.
func TestChartEscapes(t *testing.T) {
	hostile := "<script>alert(1)</script>\"'&\x00\x1b\xff]]>"
	c := Chart{ID: `x" onload="alert(1)`, Title: hostile, Labels: []string{hostile},
		Series: []Series{{Name: hostile, Values: []int64{3}}}}
	svg := string(c.SVG())
	nodes := parseSVG(t, svg)
	if strings.Contains(svg, "<script") || strings.Contains(svg, "onload=") {
		t.Fatalf("markup got through:\n%s", svg)
	}
	if id := nodes[0].Attrs["id"]; id != "xonloadalert1" {
		t.Errorf("id %q", id)
	}
	want := "<script>alert(1)</script>\"'&]]>"
	var texts int
	for _, n := range nodes {
		if (n.Name == "text" || n.Name == "title") && strings.Contains(n.Text, "script") {
			texts++
			if !strings.Contains(n.Text, want) {
				t.Errorf("%s text %q, want it to hold %q", n.Name, n.Text, want)
			}
		}
	}
	// The svg's title, the bar's tooltip, the x label, the legend.
	if texts != 4 {
		t.Errorf("%d texts hold the hostile string, want 4:\n%s", texts, svg)
	}
}

func TestNiceStep(t *testing.T) {
	for in, want := range map[float64]int64{0.25: 1, 1: 1, 1.5: 2, 2.5: 5, 7: 10, 12: 20, 250: 500, 1000: 1000} {
		if got := niceStep(in); got != want {
			t.Errorf("niceStep(%v) = %d, want %d", in, got, want)
		}
	}
}
