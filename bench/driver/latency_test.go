package main

import (
	"math"
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
