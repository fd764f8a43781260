package main

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// wellFormed parses svg as XML to the end.
func wellFormed(t *testing.T, svg string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
	}
}

func TestCharts(t *testing.T) {
	var results []result
	for _, rate := range []int{1000, 100} {
		for _, c := range fullMatrix {
			sc := scenario{Receivers: c.receivers, LossPermille: c.loss, Burst: c.burst, RateMbit: rate, FileMB: 200}
			for rep := 1; rep <= 3; rep++ {
				results = append(results,
					toolRun(sc, "herald", rep, 4+float64(rep), true),
					toolRun(sc, "udpcast", rep, 0.5, c.loss < 200 || rep == 1), // fails twice at 200 ‰
					toolRun(sc, "tool<&>", rep, 9, true),                       // unknown to the colour map, and needs escaping
				)
			}
		}
	}
	results = append(results, toolRun(scenario{Receivers: 3, RateMbit: 1000, FileMB: memoryFileMB}, "herald", 1, 60, true))
	set := collect([]runRecord{{results: results}})
	tests := []struct {
		name, svg string
		want      []string
	}{
		{"goodput", goodputChart(set, quickNote), []string{"Goodput vs loss", "1000 Mbit/s link, 200 MB file", "100 Mbit/s link, 200 MB file",
			"0 ‰", "50 ‰", "200 ‰", "20 ‰ burst", "herald", "udpcast: failed", "tool&lt;&amp;&gt;", toolColours["herald"], spareColours[0], quickNote}},
		{"receivers", receiversChart(set, ""), []string{"Completion time vs receivers", ">1<", ">3<", ">10<", "seconds until all complete", toolColours["udpcast"]}},
		{"empty", goodputChart(collect(nil), ""), []string{"no scenario of these results fits this chart"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wellFormed(t, tt.svg)
			for _, w := range tt.want {
				if !strings.Contains(tt.svg, w) {
					t.Errorf("chart lacks %q", w)
				}
			}
			if strings.Contains(tt.svg, "2048 MB") {
				t.Error("the memory run (herald alone) is charted")
			}
			if strings.Contains(tt.svg, "NaN") || strings.Contains(tt.svg, "Inf") {
				t.Error("chart has NaN or Inf coordinates")
			}
		})
	}
}

func TestNiceAxis(t *testing.T) {
	tests := []struct {
		v, step, top float64
	}{
		{0, 1, yTicks},
		{680, 200, 800},
		{95, 20, 100},
		{1000, 200, 1000},
		{7.3, 2, 8},
		{0.42, 0.1, 0.5},
	}
	for _, tt := range tests {
		step, top := niceAxis(tt.v)
		if step != tt.step || top != tt.top {
			t.Errorf("niceAxis(%v) = %v, %v; want %v, %v", tt.v, step, top, tt.step, tt.top)
		}
	}
}
