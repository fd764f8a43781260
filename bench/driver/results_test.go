package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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
