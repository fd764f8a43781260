package message

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// BenchmarkAnnounceLatency measures Post on one node to the message being
// shown on another, over a lossless MemNet and a secret channel: signing,
// sealing, verifying, replay check, decryption and reassembly. It reports
// the median and 99th percentile per message.
func BenchmarkAnnounceLatency(b *testing.B) {
	for _, size := range []int{100, 4000, protocol.MaxMessageLen} {
		b.Run(fmt.Sprintf("%dB", size), func(b *testing.B) {
			l := newLab(b, 1)
			ch := mustChannel(b, "bench")
			chans := []identity.Channel{ch}
			tx := l.peer("tx", peerOpts{link: multicast.Link{Loss: 1}, cfg: Config{Channels: chans, Repeats: -1}})
			rx := l.peer("rx", peerOpts{cfg: Config{Channels: chans, Rate: 1e9, Burst: 1 << 30}})
			text := strings.Repeat("x", size)
			latencies := make([]time.Duration, 0, b.N)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				start := time.Now()
				if _, err := tx.eng.Post(l.ctx, Post{Channel: ch, Text: text, Announce: true}); err != nil {
					b.Fatal(err)
				}
				rx.waitFor(b, i+1)
				latencies = append(latencies, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(latencies)
			b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds()), "p99-µs")
		})
	}
}
