package ui

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Charts are inline SVG drawn on the server: no JavaScript, no image files, and nothing the
// Content-Security-Policy refuses (style-src 'self' forbids style attributes: the drawing uses
// SVG presentation attributes, fill, stroke and the like, and the classes of
// assets/style.css). Every text that goes into the SVG (title, labels, series names) is
// escaped and stripped of the characters XML does not allow, so a hostile campaign name
// cannot end the document or add markup; ids keep letters, digits and dashes only.
//
// A chart is a list of labels (the x axis: one per hour, or per category) and series of
// counts, one value per label. Bars are stacked: each label's bar is its series' values one
// above the other, in the series' order. Lines draw each series as a polyline with a dot per
// point (up to maxDots labels). The y axis goes from 0 to a round number at or above the
// highest bar (or point) in 2 to 5 steps; at most about one x label in maxXLabels is written
// (every bar keeps its tooltip, a <title>). A chart whose values are all 0, or that has no
// labels or no series, is an empty frame that says "no data".

// ChartKind is how a chart draws its series.
type ChartKind int

const (
	// Bars stacks the series' values into one bar per label.
	Bars ChartKind = iota
	// Lines draws one line per series.
	Lines
)

// Chart is one chart; see the comment above.
type Chart struct {
	// ID is the svg element's id (letters, digits and '-' kept, the rest dropped).
	ID     string
	Title  string
	Kind   ChartKind
	Labels []string
	Series []Series
}

// Series is one named row of counts, a value per label of its chart (missing values are 0).
type Series struct {
	Name   string
	Values []int64
}

// chartPalette is the series' colours, in order (then again from the first).
var chartPalette = []string{"#1f5fbf", "#e8590c", "#2f9e44", "#a4161a", "#7048e8", "#0c8599", "#868e96", "#c2255c"}

// The chart's geometry, in SVG user units.
const (
	chartWidth   = 720
	chartLeft    = 48 // room for the y labels
	chartRight   = 12
	chartTop     = 12
	chartPlot    = 170 // the plot area's height
	chartXLabels = 22  // the x labels' band below the plot
	legendRow    = 20
	maxXLabels   = 12
	maxDots      = 72
	maxBarWidth  = 48 // so that a few bars do not look like blocks
	charWidth    = 7  // a rough width of one character of the legend's font, to lay it out
)

// noData is what an empty chart says.
const noData = "no data"

// SVG draws the chart.
func (c Chart) SVG() template.HTML {
	var b strings.Builder
	id := chartID(c.ID)
	plotW := float64(chartWidth - chartLeft - chartRight)
	bottom := float64(chartTop + chartPlot)
	legend := c.legendLayout()
	height := chartTop + chartPlot + chartXLabels + legendRow*len(legend) + 6

	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="%d" height="%d" role="img"`,
		chartWidth, height, chartWidth, height)
	if id != "" {
		fmt.Fprintf(&b, ` id="%s" aria-labelledby="%s-title"><title id="%s-title">%s</title>`, id, id, id, esc(c.Title))
	} else {
		fmt.Fprintf(&b, `><title>%s</title>`, esc(c.Title))
	}

	top, step := c.scale()
	n := len(c.Labels)
	// The frame: the y axis, the x axis, the grid lines with their labels.
	fmt.Fprintf(&b, `<g class="axis" stroke="#5a6272" stroke-width="1"><line x1="%d" y1="%d" x2="%d" y2="%s"/><line x1="%d" y1="%s" x2="%d" y2="%s"/></g>`,
		chartLeft, chartTop, chartLeft, num(bottom), chartLeft, num(bottom), chartWidth-chartRight, num(bottom))
	if top == 0 || n == 0 {
		fmt.Fprintf(&b, `<text class="nodata" x="%s" y="%s" text-anchor="middle" fill="#5a6272">%s</text>`,
			num(chartLeft+plotW/2), num(chartTop+chartPlot/2), noData)
	} else {
		b.WriteString(`<g class="grid" stroke="#d8dce3" stroke-width="1">`)
		for v := step; v <= top; v += step {
			y := bottom - float64(v)/float64(top)*chartPlot
			fmt.Fprintf(&b, `<line x1="%d" y1="%s" x2="%d" y2="%s"/>`, chartLeft, num(y), chartWidth-chartRight, num(y))
		}
		b.WriteString(`</g><g class="ylabels" text-anchor="end" fill="#5a6272">`)
		for v := int64(0); v <= top; v += step {
			y := bottom - float64(v)/float64(top)*chartPlot
			fmt.Fprintf(&b, `<text x="%d" y="%s">%d</text>`, chartLeft-6, num(y+4), v)
		}
		b.WriteString(`</g>`)
		slot := plotW / float64(n)
		if c.Kind == Lines {
			c.lines(&b, slot, bottom, top)
		} else {
			c.bars(&b, slot, bottom, top)
		}
		every := (n + maxXLabels - 1) / maxXLabels
		b.WriteString(`<g class="xlabels" text-anchor="middle" fill="#5a6272">`)
		for i := 0; i < n; i += every {
			fmt.Fprintf(&b, `<text x="%s" y="%s">%s</text>`, num(chartLeft+slot*(float64(i)+0.5)), num(bottom+16), esc(c.Labels[i]))
		}
		b.WriteString(`</g>`)
	}

	// The legend: a swatch and the name of each series, in rows.
	b.WriteString(`<g class="legend">`)
	for row, items := range legend {
		y := chartTop + chartPlot + chartXLabels + legendRow*row + 8
		x := chartLeft
		for _, i := range items {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`,
				x, y, colour(i), x+16, y+11, esc(c.Series[i].Name))
			x += legendWidth(c.Series[i].Name)
		}
	}
	b.WriteString(`</g></svg>`)
	return template.HTML(b.String()) // every text above went through esc
}

// bars draws the stacked bars, each segment with its tooltip.
func (c Chart) bars(b *strings.Builder, slot, bottom float64, top int64) {
	w := math.Min(math.Max(slot*0.8, 1), maxBarWidth)
	for i, label := range c.Labels {
		x := chartLeft + slot*float64(i) + (slot-w)/2
		var below float64
		for si, s := range c.Series {
			v := value(s, i)
			if v <= 0 {
				continue
			}
			h := float64(v) / float64(top) * chartPlot
			fmt.Fprintf(b, `<rect class="bar series-%d" x="%s" y="%s" width="%s" height="%s" fill="%s" data-value="%d"><title>%s: %s %d</title></rect>`,
				si%len(chartPalette), num(x), num(bottom-below-h), num(w), num(h), colour(si), v, esc(label), esc(s.Name), v)
			below += h
		}
	}
}

// lines draws one polyline per series, and its points when there are few enough.
func (c Chart) lines(b *strings.Builder, slot, bottom float64, top int64) {
	n := len(c.Labels)
	for si, s := range c.Series {
		var pts []string
		for i := range n {
			y := bottom - float64(value(s, i))/float64(top)*chartPlot
			pts = append(pts, num(chartLeft+slot*(float64(i)+0.5))+","+num(y))
		}
		fmt.Fprintf(b, `<polyline class="line series-%d" points="%s" fill="none" stroke="%s" stroke-width="2"/>`,
			si%len(chartPalette), strings.Join(pts, " "), colour(si))
		if n > maxDots {
			continue
		}
		for i, p := range pts {
			xy := strings.SplitN(p, ",", 2)
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="3" fill="%s"><title>%s: %s %d</title></circle>`,
				xy[0], xy[1], colour(si), esc(c.Labels[i]), esc(s.Name), value(s, i))
		}
	}
}

// scale returns the y axis' top and step: the highest bar (stacked) or point rounded up to a
// whole number of round steps; 0, 0 when every value is 0.
func (c Chart) scale() (top, step int64) {
	var most int64
	for i := range c.Labels {
		var sum int64
		for _, s := range c.Series {
			v := max(value(s, i), 0)
			if c.Kind == Lines {
				most = max(most, v)
			} else {
				sum += v
			}
		}
		most = max(most, sum)
	}
	if most == 0 {
		return 0, 0
	}
	step = niceStep(float64(most) / 4)
	return (most + step - 1) / step * step, step
}

// niceStep is the smallest of 1, 2 and 5 times a power of ten at or above x, at least 1.
func niceStep(x float64) int64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return int64(m * p)
		}
	}
	return int64(10 * p)
}

// legendLayout splits the series into the legend's rows (their indexes), as many per row as
// fit the chart's width.
func (c Chart) legendLayout() [][]int {
	var rows [][]int
	x := chartLeft
	for i, s := range c.Series {
		w := legendWidth(s.Name)
		if len(rows) == 0 || (x+w > chartWidth && len(rows[len(rows)-1]) > 0) {
			rows = append(rows, nil)
			x = chartLeft
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], i)
		x += w
	}
	return rows
}

// legendWidth is the room of one legend item: the swatch, the name, a gap.
func legendWidth(name string) int { return 16 + charWidth*utf8.RuneCountInString(name) + 18 }

func value(s Series, i int) int64 {
	if i < len(s.Values) {
		return s.Values[i]
	}
	return 0
}

func colour(i int) string { return chartPalette[i%len(chartPalette)] }

// num writes a coordinate with at most two decimals.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*100)/100, 'f', -1, 64) }

// esc makes s safe as SVG text and attribute value: the characters XML 1.0 does not allow
// (most control characters, invalid UTF-8) dropped, then &, <, >, ' and " escaped.
func esc(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case r < 0x20, r == 0xFFFE, r == 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			return -1
		}
		return r
	}, s)
	return html.EscapeString(s)
}

// chartID keeps the letters, digits and dashes of an id.
func chartID(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
}
