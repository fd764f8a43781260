package push

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
)

// TestScaleSimulation pushes one file to 1, 10, 100 and 1000 in-memory
// receivers at 5 % independent loss, and to 1000 where 1 % of them see
// 30 %, and logs per block: status datagrams the sender handled, NACK
// entries in them, and the sender's time verifying and handling them;
// plus the median clean receiver's completion time. bench/RESULTS.md
// carries the table. It takes minutes of CPU, so it runs only when asked.
func TestScaleSimulation(t *testing.T) {
	if os.Getenv("HERALD_SCALE") == "" {
		t.Skip("scale simulation: set HERALD_SCALE=1 (1000 in-memory receivers take minutes of CPU)")
	}
	cases := []struct {
		receivers, bad int
	}{{1, 0}, {10, 0}, {100, 0}, {1000, 0}, {1000, 10}}
	t.Logf("| receivers | loss | statuses/block | NACK entries/block | sender feedback µs/block | clean receivers' median time | push |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range cases {
		l := newMemLab(t, c.receivers, multicast.Link{Loss: 0.05})
		for i := range c.bad {
			l.hosts[i].(*multicast.MemHost).SetLink(multicast.Link{Loss: 0.3})
		}
		size := 2 << 20
		if c.receivers >= 1000 {
			size = 512 << 10 // 1000 receivers decrypt in one process on the test machine's cores
		}
		src := writeTree(t, size, 5)
		results := l.startReceivers(t, func(_ int, rc *ReceiveConfig) { rc.SenderTimeout = 90 * time.Second })
		source, err := NewSource([]string{src})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Channel: identity.Channel{}, NoEncrypt: true,
			MinReceivers: c.receivers, Wait: 60 * time.Second, GiveUp: 90 * time.Second})
		took := time.Since(start)
		if err != nil || !rep.OK() {
			// Logged, not fatal: how the engine fails at a scale is a result.
			t.Errorf("%d receivers: %v, %d of %d complete after %v", c.receivers, err, rep.Completed, c.receivers, took.Round(time.Millisecond))
			continue
		}
		for _, r := range results {
			if err := <-r; err != nil {
				t.Fatal(err)
			}
		}
		blocks := float64((rep.Bytes + 64*1344 - 1) / (64 * 1344))
		var clean []time.Duration
		bad := map[string]bool{}
		for i := range c.bad {
			bad[l.receivers[i].ID.Name] = true
		}
		for _, r := range rep.Receivers {
			if !bad[r.Name] {
				clean = append(clean, r.Elapsed)
			}
		}
		slices.Sort(clean)
		loss := "5 %"
		if c.bad > 0 {
			loss = fmt.Sprintf("5 %%, %d at 30 %%", c.bad)
		}
		t.Logf("| %d | %s | %.1f | %.1f | %.0f | %v | %v |", c.receivers, loss, float64(rep.Feedback.Statuses)/blocks,
			float64(rep.Feedback.Nacks)/blocks, float64(rep.Feedback.Busy.Microseconds())/blocks,
			clean[len(clean)/2].Round(time.Millisecond), took.Round(time.Millisecond))
	}
}
