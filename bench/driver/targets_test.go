package main

import (
	"strings"
	"testing"
)

func TestCheckTargets(t *testing.T) {
	lossless := scenario{Receivers: 3, RateMbit: 1000, FileMB: 200}
	lossy := scenario{Receivers: 3, LossPermille: 50, RateMbit: 1000, FileMB: 200}
	one := scenario{Receivers: 1, LossPermille: 50, RateMbit: 1000, FileMB: 200}
	ten := scenario{Receivers: 10, LossPermille: 50, RateMbit: 1000, FileMB: 200}
	big := scenario{Receivers: 3, RateMbit: 1000, FileMB: memoryFileMB}
	slowLossy, slowOne, slowTen := lossy, one, ten
	slowLossy.RateMbit, slowOne.RateMbit, slowTen.RateMbit = 100, 100, 100
	withCeiling := func(r result, ceiling float64) result {
		r.CeilingMbit, r.OfCeiling = ceiling, r.GoodputMbit/ceiling
		return r
	}
	withWire := func(r result, w float64) result { r.WireOverhead = w; return r }
	withRSS := func(r result, kib int64) result { r.ReceiverRSSKiB = kib; return r }
	tests := []struct {
		name    string
		results []result
		target  string // prefix of the target's name
		want    targetStatus
	}{
		{"1.5x udpcast met", []result{toolRun(lossless, "herald", 1, 2, true), toolRun(lossless, "udpcast", 1, 3, true)}, "goodput ≥ 1.5× udpcast", targetMet},
		{"1.5x udpcast missed", []result{toolRun(lossless, "herald", 1, 2.1, true), toolRun(lossless, "udpcast", 1, 3, true)}, "goodput ≥ 1.5× udpcast", targetNotMet},
		{"herald failed", []result{toolRun(lossless, "herald", 1, 0.1, false), toolRun(lossless, "uftp", 1, 30, true)}, "goodput ≥ 1.5× uftp", targetNotMet},
		{"uftp missing", []result{toolRun(lossless, "herald", 1, 2, true)}, "goodput ≥ 1.5× uftp", targetNotMeasured},
		{"ceiling met", []result{withCeiling(toolRun(lossless, "herald", 1, 2, true), 900)}, "goodput ≥ 85 %", targetMet},
		{"ceiling missed", []result{withCeiling(toolRun(lossless, "herald", 1, 2, true), 1000)}, "goodput ≥ 85 %", targetNotMet},
		{"2.5x udpcast-fec", []result{toolRun(lossy, "herald", 1, 2, true), toolRun(lossy, "udpcast-fec", 1, 5, true)}, "goodput ≥ 2.5× udpcast-fec", targetMet},
		{"2x uftp-enc missed", []result{toolRun(lossy, "herald", 1, 2, true), toolRun(lossy, "uftp-enc", 1, 3.9, true)}, "goodput ≥ 2.0× uftp-enc", targetNotMet},
		{"wire met", []result{withWire(toolRun(lossy, "herald", 1, 2, true), 1.15)}, "wire bytes", targetMet},
		{"wire missed", []result{withWire(toolRun(lossy, "herald", 1, 2, true), 1.16)}, "wire bytes", targetNotMet},
		{"scale met", []result{toolRun(one, "herald", 1, 4, true), toolRun(ten, "herald", 1, 4.5, true)}, "10 receivers", targetMet},
		{"scale missed", []result{toolRun(one, "herald", 1, 4, true), toolRun(ten, "herald", 1, 4.7, true)}, "10 receivers", targetNotMet},
		{"scale at another rate", []result{toolRun(slowOne, "herald", 1, 4, true), toolRun(slowTen, "herald", 1, 4.5, true)}, "10 receivers", targetInformative},
		{"ratio at another rate", []result{toolRun(slowLossy, "herald", 1, 2, true), toolRun(slowLossy, "udpcast-fec", 1, 5, true)}, "goodput ≥ 2.5× udpcast-fec", targetNotMeasured},
		{"scale without 1 rx", []result{toolRun(ten, "herald", 1, 4.5, true)}, "10 receivers", targetNotMeasured},
		{"memory met", []result{withRSS(toolRun(big, "herald", 1, 50, true), 63<<10)}, "max RSS", targetMet},
		{"memory missed", []result{withRSS(toolRun(big, "herald", 1, 50, true), 64<<10)}, "max RSS", targetNotMet},
		{"memory only small files", []result{toolRun(lossless, "herald", 1, 2, true)}, "max RSS", targetNotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checks := checkTargets(collect([]runRecord{{results: tt.results}}), nil)
			found := false
			for _, c := range checks {
				if strings.HasPrefix(c.target, tt.target) {
					found = true
					if c.status != tt.want {
						t.Errorf("%s at %s: %s (%s), want %s", c.target, c.where, c.status, c.figure, tt.want)
					}
				}
			}
			if !found {
				t.Fatalf("no target %q in %+v", tt.target, checks)
			}
		})
	}
}
