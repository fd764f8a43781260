package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLatencyText(t *testing.T) {
	at := time.Unix(1795321048, 153322146)
	tag := latencyTag + " chat idle"
	text := latencyText(tag, 42, at)
	tests := []struct {
		name, tag, text string
		ok              bool
	}{
		{"own", tag, text, true},
		{"other series", latencyTag + " chat push", text, false},
		{"warm-up", tag, latencyTag + " warmup 1", false},
		{"extra field", tag, text + " x", false},
		{"not a number", tag, tag + " x 1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, nanos, ok := parseLatencyText(tt.tag, tt.text)
			if ok != tt.ok || ok && (seq != 42 || nanos != at.UnixNano()) {
				t.Fatalf("parseLatencyText = %d, %d, %v", seq, nanos, ok)
			}
		})
	}
}

func TestCollectLatencies(t *testing.T) {
	dir := t.TempDir()
	tag := latencyTag + " chat idle"
	sent := map[int]time.Time{0: time.Unix(100, 0), 1: time.Unix(101, 0)}
	line := func(at time.Time, text string) string {
		return `{"time":"` + at.UTC().Format(time.RFC3339Nano) + `","kind":"chat","text":"` + text + `"}`
	}
	logs := []string{
		strings.Join([]string{
			"not json",
			line(time.Unix(100, 5e6), latencyText(tag, 0, sent[0])),
			line(time.Unix(100, 9e6), latencyText(tag, 0, sent[0])), // shown twice: counts once
			line(time.Unix(101, 2e6), latencyText(tag, 1, sent[1])),
			line(time.Unix(101, 2e6), latencyText(tag, 1, time.Unix(99, 0))), // forged time: not ours
			line(time.Unix(101, 2e6), latencyText(tag, 7, sent[1])),          // never sent
		}, "\n"),
		line(time.Unix(101, 3e6), latencyText(tag, 1, sent[1])), // missed message 0
	}
	s := &latencySession{}
	for i, l := range logs {
		p := filepath.Join(dir, "listen"+string(rune('1'+i))+".out")
		if err := os.WriteFile(p, []byte(l+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		s.listeners = append(s.listeners, &proc{outPath: p})
	}
	got := s.collect(tag, sent, nil)
	want := []float64{5, 2, 3}
	if len(got) != len(want) {
		t.Fatalf("collect = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("collect = %v, want %v", got, want)
		}
	}
}

// TestCollectTimesFromSentChecksStamp: announce deliveries are timed from
// the reported send time, but only messages whose text carries the start
// stamp count.
func TestCollectTimesFromSentChecksStamp(t *testing.T) {
	tag := latencyTag + " announce idle"
	started := map[int]time.Time{0: time.Unix(100, 0)}
	sent := map[int]time.Time{0: time.Unix(100, 8e6)}
	p := filepath.Join(t.TempDir(), "listen.out")
	line := `{"time":"` + time.Unix(100, 9e6).UTC().Format(time.RFC3339Nano) + `","kind":"announce","text":"` + latencyText(tag, 0, started[0]) + `"}`
	if err := os.WriteFile(p, []byte(line+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &latencySession{listeners: []*proc{{outPath: p}}}
	if got := s.collect(tag, sent, started); len(got) != 1 || got[0] != 1 {
		t.Fatalf("from sent = %v, want [1]", got)
	}
	if got := s.collect(tag, started, nil); len(got) != 1 || got[0] != 9 {
		t.Fatalf("from start = %v, want [9]", got)
	}
	if got := s.collect(tag, sent, nil); len(got) != 0 {
		t.Fatalf("stamp checked against the send time = %v, want nothing", got)
	}
}
