package main

// Charts of the results page, as hand-written SVG: one panel per link rate
// and file size, categories along x, one line per tool with min–max bars.

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// Layout of one panel, in SVG user units (pixels).
const (
	chartWidth       = 820
	panelHeight      = 340
	chartTitleHeight = 56
	chartNoteHeight  = 18
	plotLeft         = 72
	plotRight        = 190 // room for the legend
	plotTop          = 34
	plotBottom       = 58
	yTicks           = 5
	seriesSpread     = 5 // x offset between tools at one category, so bars do not hide each other
	legendRow        = 20
)

// toolOrder is the order of tools in legends and tables.
var toolOrder = []string{"raw", "udpcast", "udpcast-fec", "uftp", "uftp-enc", "herald", "herald-fixed"}

// toolColours gives every tool one colour (Okabe-Ito, safe for colour
// blindness); herald gets the strongest.
var toolColours = map[string]string{
	"raw":         "#999999",
	"udpcast":     "#0072B2",
	"udpcast-fec": "#56B4E9",
	"uftp":        "#E69F00",
	"uftp-enc":    "#8C6D00",
	"herald":      "#D55E00",
}

// spareColours colour tools the map does not know, in order.
var spareColours = []string{"#009E73", "#CC79A7", "#000000", "#F0E442"}

func toolColour(tool string, spare *int) string {
	if c, ok := toolColours[tool]; ok {
		return c
	}
	c := spareColours[*spare%len(spareColours)]
	*spare++
	return c
}

// chartPoint is one tool at one category; a zero n means no data.
type chartPoint = stat

// chartSeries is one tool's line: one point per category.
type chartSeries struct {
	tool   string
	points []chartPoint
}

// lineChart is one panel.
type lineChart struct {
	title, xLabel, yLabel string
	categories            []string
	series                []chartSeries
	// higherIsBetter puts failed points at the bottom (rates) instead of
	// the top (times).
	higherIsBetter bool
}

// chartDoc is a whole SVG file: a title over stacked panels.
type chartDoc struct {
	title, subtitle, note string
	panels                []lineChart
}

// panelKey groups scenarios into panels.
type panelKey struct{ rateMbit, fileMB int }

// buildPanels makes one panel per link rate and file size from the
// scenarios want accepts; category names each scenario's column and
// categoryOrder sorts columns.
func buildPanels(set scenarioSet, want func(scenario) bool, category func(scenario) string,
	categoryOrder func(a, b scenario) int, fig func(*group) stat, base lineChart) []lineChart {
	byPanel := map[panelKey][]scenario{}
	for _, sc := range set.order {
		if want(sc) && sc.FileMB < memoryFileMB {
			k := panelKey{sc.RateMbit, sc.FileMB}
			byPanel[k] = append(byPanel[k], sc)
		}
	}
	keys := make([]panelKey, 0, len(byPanel))
	for k := range byPanel {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b panelKey) int { return cmp.Or(b.rateMbit-a.rateMbit, b.fileMB-a.fileMB) })
	var panels []lineChart
	for _, k := range keys {
		scs := byPanel[k]
		slices.SortFunc(scs, categoryOrder)
		p := base
		p.title = fmt.Sprintf("%s — %d Mbit/s link, %d MB file", base.title, k.rateMbit, k.fileMB)
		p.categories = nil
		for _, sc := range scs {
			p.categories = append(p.categories, category(sc))
		}
		p.series = nil
		for _, tool := range panelTools(set, scs) {
			s := chartSeries{tool: tool, points: make([]chartPoint, len(scs))}
			for i, sc := range scs {
				if g := set.group(sc, tool); g != nil && len(g.runs) > 0 {
					s.points[i] = fig(g)
				}
			}
			p.series = append(p.series, s)
		}
		panels = append(panels, p)
	}
	return panels
}

// panelTools lists the tools that ran in any of scs, known tools first.
func panelTools(set scenarioSet, scs []scenario) []string {
	var tools []string
	for _, sc := range scs {
		for _, g := range set.groups[sc] {
			if len(g.runs) > 0 && !slices.Contains(tools, g.tool) {
				tools = append(tools, g.tool)
			}
		}
	}
	rank := func(t string) int {
		if i := slices.Index(toolOrder, t); i >= 0 {
			return i
		}
		return len(toolOrder)
	}
	slices.SortStableFunc(tools, func(a, b string) int { return rank(a) - rank(b) })
	return tools
}

// goodputChart: goodput against loss at 3 receivers; note, if not empty,
// is shown under the title (e.g. that the run was a quick one).
func goodputChart(set scenarioSet, note string) string {
	lossOrder := func(a, b scenario) int {
		if a.Burst != b.Burst {
			return map[bool]int{true: 1, false: -1}[a.Burst]
		}
		return a.LossPermille - b.LossPermille
	}
	panels := buildPanels(set,
		func(sc scenario) bool { return sc.Receivers == 3 },
		func(sc scenario) string {
			if sc.Burst {
				return fmt.Sprintf("%d ‰ burst", sc.LossPermille)
			}
			return fmt.Sprintf("%d ‰", sc.LossPermille)
		},
		lossOrder,
		func(g *group) stat { return g.metric(func(r result) float64 { return r.GoodputMbit }, true) },
		lineChart{title: "Goodput vs loss, 3 receivers", xLabel: "loss at every receiver (per mille)", yLabel: "goodput, Mbit/s", higherIsBetter: true})
	return chartDoc{title: "Goodput vs loss", subtitle: chartSubtitle, note: note, panels: panels}.svg()
}

// receiversChart: completion time against receivers at 50 ‰.
func receiversChart(set scenarioSet, note string) string {
	panels := buildPanels(set,
		func(sc scenario) bool { return sc.LossPermille == 50 && !sc.Burst },
		func(sc scenario) string { return fmt.Sprintf("%d", sc.Receivers) },
		func(a, b scenario) int { return a.Receivers - b.Receivers },
		func(g *group) stat { return g.metric(func(r result) float64 { return r.Seconds }, false) },
		lineChart{title: "Completion time vs receivers, 50 ‰ loss", xLabel: "receivers", yLabel: "seconds until all complete"})
	return chartDoc{title: "Completion time vs receivers", subtitle: chartSubtitle, note: note, panels: panels}.svg()
}

// chartSubtitle explains the marks once per chart.
const chartSubtitle = "median of the repeats; bars: min–max; ✕ at the edge: failed (never counted as fast)"

// svg renders the document.
func (d chartDoc) svg() string {
	panels := d.panels
	top := chartTitleHeight
	if d.note != "" {
		top += chartNoteHeight
	}
	height := top + max(len(panels), 1)*panelHeight
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="24" font-size="17" font-weight="bold">%s</text>`+"\n", plotLeft, esc(d.title))
	fmt.Fprintf(&b, `<text x="%d" y="43" fill="#555555">%s</text>`+"\n", plotLeft, esc(d.subtitle))
	if d.note != "" {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#B00020" font-weight="bold">%s</text>`+"\n", plotLeft, 43+chartNoteHeight, esc(d.note))
	}
	if len(panels) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#555555">no scenario of these results fits this chart</text>`+"\n",
			plotLeft, top+panelHeight/2)
	}
	for i, p := range panels {
		p.draw(&b, top+i*panelHeight)
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// draw renders one panel whose top edge is at y0.
func (c lineChart) draw(b *strings.Builder, y0 int) {
	left, right := float64(plotLeft), float64(chartWidth-plotRight)
	top, bottom := float64(y0+plotTop), float64(y0+panelHeight-plotBottom)
	step, yMax := niceAxis(c.maxValue())
	yOf := func(v float64) float64 { return bottom - (bottom-top)*v/yMax }
	n := max(len(c.categories), 1)
	xOf := func(i int) float64 { return left + (right-left)*(float64(i)+0.5)/float64(n) }

	fmt.Fprintf(b, `<g><text x="%.0f" y="%d" font-size="13" font-weight="bold">%s</text>`+"\n", left, y0+plotTop-12, esc(c.title))
	for k := 0; k <= int(math.Round(yMax/step)); k++ {
		v := float64(k) * step
		y := yOf(v)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#e3e3e3"/>`+"\n", left, y, right, y)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n", left-6, y, tickLabel(v, step))
	}
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000000"/>`+"\n", left, top, left, bottom)
	fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000000"/>`+"\n", left, bottom, right, bottom)
	for i, cat := range c.categories {
		x := xOf(i)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#000000"/>`+"\n", x, bottom, x, bottom+5)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", x, bottom+18, esc(cat))
	}
	fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`+"\n", (left+right)/2, bottom+40, esc(c.xLabel))
	fmt.Fprintf(b, `<text transform="translate(%.1f %.1f) rotate(-90)" text-anchor="middle">%s</text>`+"\n", left-52, (top+bottom)/2, esc(c.yLabel))

	// Failed points sit just outside the plot, at the worse edge.
	failY := top - 6
	if c.higherIsBetter {
		failY = bottom - 6
	}
	clamp := func(v float64) float64 {
		switch {
		case math.IsInf(v, 1):
			return top
		case math.IsInf(v, -1):
			return bottom
		}
		return yOf(v)
	}
	spare := 0
	for si, s := range c.series {
		colour := toolColour(s.tool, &spare)
		width, dash := 2.0, ""
		if s.tool == "herald" {
			width = 3.5
		}
		if s.tool == "raw" {
			dash = ` stroke-dasharray="6 4"`
		}
		dx := (float64(si) - float64(len(c.series)-1)/2) * seriesSpread
		fmt.Fprintf(b, `<g stroke="%s" fill="%s">`+"\n", colour, colour)
		var line []string
		flush := func() {
			if len(line) > 1 {
				fmt.Fprintf(b, `<polyline fill="none" stroke-width="%.1f"%s points="%s"/>`+"\n", width, dash, strings.Join(line, " "))
			}
			line = line[:0]
		}
		for i, p := range s.points {
			x := xOf(i) + dx
			if p.n == 0 {
				flush()
				continue
			}
			if p.lo != p.hi {
				y1, y2 := clamp(p.lo), clamp(p.hi)
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke-width="1.2"/>`+"\n", x, y1, x, y2)
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke-width="1.2"/>`+"\n", x-3, y1, x+3, y1)
				fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke-width="1.2"/>`+"\n", x-3, y2, x+3, y2)
			}
			if p.failed() {
				flush()
				fmt.Fprintf(b, `<path d="M%.1f %.1f l8 8 m0 -8 l-8 8" stroke-width="2" fill="none"><title>%s: failed</title></path>`+"\n", x-4, failY-4, esc(s.tool))
				continue
			}
			y := yOf(p.med)
			line = append(line, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="%.1f"><title>%s: %s</title></circle>`+"\n", x, y, width+1.5, esc(s.tool), esc(p.format("%.2f")))
		}
		flush()
		b.WriteString("</g>\n")
		ly := top + float64(si)*legendRow + 6
		lx := right + 24
		fmt.Fprintf(b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="%.1f"%s/>`+"\n", lx, ly, lx+26, ly, colour, width, dash)
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" dominant-baseline="middle">%s</text>`+"\n", lx+34, ly, esc(s.tool))
	}
	b.WriteString("</g>\n")
}

// maxValue is the largest finite value any point reaches.
func (c lineChart) maxValue() float64 {
	m := 0.0
	for _, s := range c.series {
		for _, p := range s.points {
			for _, v := range []float64{p.med, p.lo, p.hi} {
				if !math.IsInf(v, 0) && !math.IsNaN(v) {
					m = max(m, v)
				}
			}
		}
	}
	return m
}

// niceAxis returns a tick step of 1, 2 or 5 times a power of ten and the
// axis top, a multiple of it at or above v, with about yTicks ticks.
func niceAxis(v float64) (step, top float64) {
	if v <= 0 {
		return 1, yTicks
	}
	raw := v / yTicks
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step, math.Ceil(v/step) * step
}

// tickLabel prints v with as many decimals as the step needs.
func tickLabel(v, step float64) string {
	decimals := max(0, int(-math.Floor(math.Log10(step))))
	return fmt.Sprintf("%.*f", decimals, v)
}

func esc(s string) string { return html.EscapeString(s) }
