package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/message"
)

func TestLatencyPercentile(t *testing.T) {
	tests := []struct {
		name string
		r    latencyResult
		p    float64
		want float64
	}{
		{"p50 of all delivered", latencyResult{LatenciesMS: []float64{5, 1, 3, 2, 4}, Expected: 5}, 0.5, 3},
		{"p99 of all delivered", latencyResult{LatenciesMS: []float64{5, 1, 3, 2, 4}, Expected: 5}, 0.99, 5},
		{"lost rank as slowest", latencyResult{LatenciesMS: []float64{1, 2, 3}, Expected: 5}, 0.99, math.Inf(1)},
		{"p50 survives a few losses", latencyResult{LatenciesMS: []float64{1, 2, 3}, Expected: 5}, 0.5, 3},
		{"nothing sent", latencyResult{}, 0.5, math.NaN()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.r.percentile(tt.p)
			if got != tt.want && !(math.IsNaN(got) && math.IsNaN(tt.want)) {
				t.Fatalf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
			}
		})
	}
}

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

// TestLatencyMethodsStayUnderRateLimit: listeners drop a sender's messages
// above message.DefaultRate a second; a series faster than that would
// measure the limiter.
func TestLatencyMethodsStayUnderRateLimit(t *testing.T) {
	for _, m := range latencyMethods {
		if perSecond := float64(time.Second) / float64(m.interval); perSecond >= message.DefaultRate {
			t.Errorf("%s sends %.1f messages a second, listeners take %d", m.name, perSecond, message.DefaultRate)
		}
		if d := time.Duration(m.messages) * m.interval; d+latencyDrain > pushDuration() {
			t.Errorf("%s series lasts %v, the push only %v", m.name, d, pushDuration())
		}
	}
}

// pushDuration is how long the push's data takes at 95 % of the link.
func pushDuration() time.Duration {
	bits := float64(latencyPushFileMB<<20) * 8
	return time.Duration(bits / (0.95 * latencyRateMbit * 1e6) * float64(time.Second))
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

func TestLatencyTargets(t *testing.T) {
	fast := latencyResult{Kind: latencyKind, Method: methodChat, Phase: phaseIdle, Listeners: 10, LatenciesMS: []float64{0.3, 0.4, 0.5}, Expected: 3}
	slow := fast
	slow.LatenciesMS = []float64{0.3, 0.4, 6}
	slowMedian := fast
	slowMedian.LatenciesMS = []float64{1.5, 1.5, 1.5}
	duringPush := fast
	duringPush.Phase = phasePush
	duringPush.LatenciesMS = []float64{1.5, 1.5, 19}
	pushTooSlow := duringPush
	pushTooSlow.LatenciesMS = []float64{1.5, 1.5, 21}
	lossy := fast
	lossy.Expected = 4
	tests := []struct {
		name string
		in   []latencyResult
		want targetStatus
	}{
		{"fast", []latencyResult{fast}, targetMet},
		{"slow", []latencyResult{slow}, targetNotMet},
		{"slow median", []latencyResult{slowMedian}, targetNotMet},
		{"during a push", []latencyResult{duringPush}, targetMet},
		{"during a push, too slow", []latencyResult{pushTooSlow}, targetNotMet},
		{"lost", []latencyResult{lossy}, targetNotMet},
		{"skipped", []latencyResult{{Kind: latencyKind, Skipped: "no listen"}}, targetNotMeasured},
		{"absent", nil, targetNotMeasured},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := latencyTargets(tt.in)
			if len(got) != 1 || got[0].status != tt.want {
				t.Fatalf("latencyTargets = %+v, want one %s", got, tt.want)
			}
		})
	}
}

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

// TestLatencyTargetsRawIsContext: the raw series is never judged as a
// herald target, even when it is slow or lossy, and the chat check of the
// same phase quotes it.
func TestLatencyTargetsRawIsContext(t *testing.T) {
	chat := latencyResult{Kind: latencyKind, Method: methodChat, Phase: phaseIdle, Listeners: 10, LatenciesMS: []float64{0.3, 0.4, 0.5}, Expected: 3}
	rawIdle := chat
	rawIdle.Method = methodRaw
	rawIdle.LatenciesMS = []float64{0.1, 0.2, 7}
	rawPush := rawIdle
	rawPush.Phase = phasePush
	rawPush.Expected = 10 // lossy: p99 lost
	got := latencyTargets([]latencyResult{rawIdle, rawPush, chat})
	if len(got) != 1 {
		t.Fatalf("latencyTargets = %+v, want the chat check alone", got)
	}
	if got[0].status != targetMet || !strings.Contains(got[0].where, methodChat) {
		t.Fatalf("chat check = %+v", got[0])
	}
	if want := "lab floor (raw) p50 0.2 ms, p99 7.0 ms"; !strings.Contains(got[0].figure, want) {
		t.Fatalf("chat figure %q does not quote %q", got[0].figure, want)
	}
	chatPush := chat
	chatPush.Phase = phasePush
	got = latencyTargets([]latencyResult{rawIdle, chatPush})
	if len(got) != 1 || strings.Contains(got[0].figure, "floor") {
		t.Fatalf("a push check quotes the idle floor: %+v", got)
	}
	if got := latencyTargets([]latencyResult{rawIdle}); len(got) != 1 || got[0].status != targetNotMeasured {
		t.Fatalf("raw alone = %+v, want not measured", got)
	}
}

// TestLatencyTargetsAnnounceStartIsContext: announce is judged from when
// the message left the sender; the same deliveries timed from process
// start are quoted beside it, never judged.
func TestLatencyTargetsAnnounceStartIsContext(t *testing.T) {
	announce := latencyResult{Kind: latencyKind, Method: methodAnnounce, Phase: phaseIdle, Listeners: 10, LatenciesMS: []float64{0.3, 0.4, 0.5}, Expected: 3}
	started := announce
	started.Method = methodAnnounceStart
	started.LatenciesMS = []float64{9, 10, 12}
	got := latencyTargets([]latencyResult{announce, started})
	if len(got) != 1 || got[0].status != targetMet || !strings.Contains(got[0].where, methodAnnounce+",") {
		t.Fatalf("latencyTargets = %+v, want the announce check alone, met", got)
	}
	if want := "from process start p50 10.0 ms, p99 12.0 ms"; !strings.Contains(got[0].figure, want) {
		t.Fatalf("announce figure %q does not quote %q", got[0].figure, want)
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
