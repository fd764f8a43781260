package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
