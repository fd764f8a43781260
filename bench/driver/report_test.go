package main

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
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

// TestPageShowsFailuresAsFailed: a tool whose failed runs were quick must
// read "failed", never fast, and herald's ratio against it too.
func TestPageShowsFailuresAsFailed(t *testing.T) {
	sc := scenario{Receivers: 3, LossPermille: 50, RateMbit: 1000, FileMB: 50}
	rec := runRecord{path: "bench/out/x.jsonl", header: runHeader{Time: "20261122T040423Z", Mode: "full", Versions: map[string]string{"uftp": "4.10"}}}
	for rep := 1; rep <= 3; rep++ {
		rec.results = append(rec.results,
			toolRun(sc, "herald", rep, 2, true),
			toolRun(sc, "udpcast-fec", rep, 0.1, rep == 1), // two quick failures
			toolRun(sc, "uftp-enc", rep, 5, true),
		)
	}
	rec.results = append(rec.results, result{Scenario: sc, Tool: "uftp", Skipped: "not installed"})
	page := resultsPage([]runRecord{rec}, pageOptions{notes: []string{"a note"}})
	for _, want := range []string{
		"| udpcast-fec | 1/3 | failed (0.10–failed) | failed (failed–4194) |",
		"| uftp-enc | 3/3 | 5.00 | 84 | – | 2.50 |",
		"| herald | 3/3 | 2.00 | 210 | – | 1.00 |",
		"| uftp | skipped |",
		"| goodput ≥ 2.5× udpcast-fec at 50 ‰ | 3 rx, 50‰, 1000 Mbit, 50 MB | herald 210 Mbit/s, udpcast-fec failed | met |",
		"| goodput ≥ 2.0× uftp-enc at 50 ‰ | 3 rx, 50‰, 1000 Mbit, 50 MB | 2.50× (herald 210 / uftp-enc 84 Mbit/s) | met |",
		"udpcast-fec #2: timeout",
		"Reproduce (as root",
		"go run ./bench/driver -mode full",
		"- a note",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "Quick run") {
		t.Error("a full run is marked quick")
	}
}

func TestQuickRunIsMarked(t *testing.T) {
	page := resultsPage([]runRecord{{header: runHeader{Mode: "quick"}}}, pageOptions{})
	if !strings.Contains(page, "Quick run (1 repeat, 50 MB), not the full matrix") {
		t.Fatalf("quick page not marked:\n%s", page)
	}
}

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

func TestReadRunRoundTrip(t *testing.T) {
	sc := scenario{Receivers: 3, RateMbit: 1000, FileMB: 50}
	var buf bytes.Buffer
	for _, v := range []any{
		runHeader{Time: "20261122T040423Z", Mode: "quick", Command: "go run ./bench/driver", Machine: &machine{Cores: 2}, Versions: map[string]string{"go": "1.26"}},
		result{Scenario: sc, Tool: ceilingTool, OK: true, GoodputMbit: 700},
		toolRun(sc, "herald", 1, 2, true),
		latencyResult{Kind: latencyKind, Method: methodChat, Phase: phaseIdle, LatenciesMS: []float64{1.5, 2}, Expected: 3},
	} {
		if err := writeJSONLine(&buf, v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "results.jsonl")
	headless := filepath.Join(dir, "headless.jsonl")
	if err := os.WriteFile(good, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(buf.String(), "\n", 2)
	if err := os.WriteFile(headless, []byte(lines[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, err := readRun(good)
	if err != nil {
		t.Fatal(err)
	}
	if rec.header.Mode != "quick" || rec.header.Machine == nil || rec.header.Machine.Cores != 2 || len(rec.results) != 2 || len(rec.latency) != 1 ||
		rec.latency[0].Expected != 3 || rec.results[1].Tool != "herald" {
		t.Fatalf("readRun = %+v", rec)
	}
	if _, err := readRun(headless); err == nil {
		t.Error("a file without a header line was accepted")
	}
}

// TestWriteResultsPage: -results writes the page and both charts, and the
// page shows the charts before any table.
func TestWriteResultsPage(t *testing.T) {
	sc := scenario{Receivers: 3, LossPermille: 50, RateMbit: 1000, FileMB: 50}
	var buf bytes.Buffer
	for _, v := range []any{runHeader{Time: "20261122T040423Z", Mode: "quick", Versions: map[string]string{}},
		toolRun(sc, "herald", 1, 2, true), toolRun(sc, "uftp", 1, 3, true)} {
		if err := writeJSONLine(&buf, v); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "r.jsonl")
	if err := os.WriteFile(src, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeResultsPage([]string{src}, dir); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, pageFile))
	if err != nil {
		t.Fatal(err)
	}
	chart := strings.Index(string(page), "!["+strings.TrimSuffix(goodputChartFile, ".svg")+"]("+goodputChartFile+")")
	table := strings.Index(string(page), "| tool |")
	if chart < 0 || table < 0 || chart > table {
		t.Errorf("chart at %d, first table at %d:\n%s", chart, table, page)
	}
	for _, f := range []string{goodputChartFile, receiverChartFile} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || !bytes.Contains(b, []byte("herald")) {
			t.Errorf("%s: %v, %d bytes", f, err, len(b))
		}
	}
}

func TestReproduceCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "go run ./bench/driver"},
		{[]string{"-mode", "full", "-tools", "raw,uftp"}, "go run ./bench/driver -mode full -tools raw,uftp"},
		{[]string{"-work", "/tmp/a b"}, "go run ./bench/driver -work '/tmp/a b'"},
		{[]string{"-herald", "it's"}, `go run ./bench/driver -herald 'it'\''s'`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := reproduceCommand(tt.args); got != tt.want {
				t.Fatalf("reproduceCommand(%q) = %q", tt.args, got)
			}
		})
	}
}

func TestProcField(t *testing.T) {
	cpuinfo := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nmodel name\t: other\n"
	if got := procField(cpuinfo, "model name"); got != "AMD EPYC 7B13" {
		t.Errorf("procField = %q", got)
	}
	if got := procField(cpuinfo, "flags"); got != "unknown" {
		t.Errorf("missing field = %q", got)
	}
}
