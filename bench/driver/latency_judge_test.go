package main

import (
	"strings"
	"testing"
)

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
