package main

// Reading the listeners' logs: ping output and `herald listen --json` lines.

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"time"
)

// pingLine is what `blast listen` prints per datagram (bench/cmd/blast).
type pingLine struct {
	Seq       *int     `json:"seq"`
	LatencyMS *float64 `json:"latency_ms"`
}

// readPingLog returns the latencies in one `blast listen` output, in
// milliseconds rounded to the microsecond as herald's are, of sequence
// numbers below count, each once.
func readPingLog(path string, count int) []float64 {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []float64
	seen := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var l pingLine
		if json.Unmarshal(sc.Bytes(), &l) != nil || l.Seq == nil || l.LatencyMS == nil {
			continue
		}
		if seq := *l.Seq; seq >= 0 && seq < count && !seen[seq] {
			seen[seq] = true
			out = append(out, math.Round(*l.LatencyMS*1000)/1000)
		}
	}
	return out
}

// listenEntry is what the benchmark reads of a `herald listen --json` line.
type listenEntry struct {
	Time time.Time `json:"time"` // when the message was complete at the listener
	Kind string    `json:"kind"`
	Text string    `json:"text"`
}

// maxListenLine bounds one line of listen's output (a message is at most
// a few KiB; a longer line is not a message).
const maxListenLine = 1 << 20

// readListenLog parses a listener's stdout; lines that are not JSON are
// skipped.
func readListenLog(path string) []listenEntry {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []listenEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), maxListenLine)
	for sc.Scan() {
		var e listenEntry
		if json.Unmarshal(sc.Bytes(), &e) == nil && !e.Time.IsZero() {
			out = append(out, e)
		}
	}
	return out
}
