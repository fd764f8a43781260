package main

import (
	"math"
	"testing"
)

// toolRun makes one tool run of sc taking seconds; a failed run keeps its
// (misleadingly short) seconds, as a crashed tool's would.
func toolRun(sc scenario, tool string, repeat int, seconds float64, ok bool) result {
	r := result{Scenario: sc, Tool: tool, Repeat: repeat, OK: ok, Seconds: seconds,
		WireOverhead: 1.05, SenderRSSKiB: 10 << 10, ReceiverRSSKiB: 12 << 10}
	if ok {
		r.GoodputMbit = float64(sc.fileBytes()) * 8 / seconds / 1e6
	} else {
		r.Error = "timeout"
	}
	return r
}

func TestSummarize(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name           string
		values         []float64
		failed         int
		higherIsBetter bool
		want           stat
	}{
		{"one", []float64{2}, 0, false, stat{2, 2, 2, 1}},
		{"odd", []float64{3, 1, 2}, 0, false, stat{2, 1, 3, 3}},
		{"even", []float64{1, 2, 3, 4}, 0, false, stat{2.5, 1, 4, 4}},
		{"one failed time ranks slowest", []float64{1, 2}, 1, false, stat{2, 1, inf, 3}},
		{"majority failed time is failed", []float64{1}, 2, false, stat{inf, 1, inf, 3}},
		{"failed rate ranks lowest", []float64{400, 500}, 1, true, stat{400, math.Inf(-1), 500, 3}},
		{"even with a failure takes the failure", []float64{1}, 1, false, stat{inf, 1, inf, 2}},
		{"even rate with a failure takes the failure", []float64{400}, 1, true, stat{math.Inf(-1), math.Inf(-1), 400, 2}},
		{"nothing", nil, 0, false, stat{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.values, tt.failed, tt.higherIsBetter); got != tt.want {
				t.Fatalf("summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStatFormat(t *testing.T) {
	tests := []struct {
		name string
		s    stat
		want string
	}{
		{"single", summarize([]float64{1.234}, 0, false), "1.23"},
		{"spread", summarize([]float64{1, 2, 3}, 0, false), "2.00 (1.00–3.00)"},
		{"one failed", summarize([]float64{1, 2}, 1, false), "2.00 (1.00–failed)"},
		{"all failed", summarize(nil, 2, true), "failed"},
		{"none", stat{}, "–"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.format("%.2f"); got != tt.want {
				t.Fatalf("format = %q, want %q", got, tt.want)
			}
		})
	}
}
