package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPingLog(t *testing.T) {
	p := filepath.Join(t.TempDir(), "raw.out")
	lines := strings.Join([]string{
		`{"seq":0,"sent_ns":100,"recv_ns":512345,"latency_ms":0.5123449}`,
		`not json`,
		`{"seq":0,"latency_ms":9}`, // a duplicate counts once
		`{"seq":1,"latency_ms":1.25}`,
		`{"seq":3,"latency_ms":2}`, // beyond the count: not this series
		`{"seq":-1,"latency_ms":2}`,
		`{"latency_ms":2}`, // no seq
		`{"seq":2}`,        // no latency
		`{"seq":2,"latency_ms":0}`,
	}, "\n")
	if err := os.WriteFile(p, []byte(lines+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := readPingLog(p, 3)
	want := []float64{0.512, 1.25, 0}
	if len(got) != len(want) {
		t.Fatalf("readPingLog = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("readPingLog = %v, want %v", got, want)
		}
	}
	if got := readPingLog(filepath.Join(t.TempDir(), "missing"), 3); got != nil {
		t.Fatalf("readPingLog(missing) = %v", got)
	}
}
