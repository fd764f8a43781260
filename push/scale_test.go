//go:build unix

package push

import (
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
)

// TestScaleSimulation pushes one file to 1, 10, 100 and 1000 in-memory
// receivers at 5 % independent loss, and to 1000 where 1 % of them see
// 30 %, each in a synctest bubble (virtual time, scaleCase), and logs per
// block: feedback datagrams that reached the sender (verified and handled,
// or shed unverified when its hand-off was busy), those that asked for
// a block's repair, and the block NACK entries in them; per receiver, the
// manifest-chunk NACKs (asked for when it registers, so not per block);
// repair shards per block and the wire (UDP payload) over the file; plus
// the clean receivers' median
// and slowest completion time, the push's time (virtual) and the whole
// process's CPU (real: every receiver runs in this process). The sender's
// own CPU per block cannot be told apart in one process; its feedback
// work is one signature check per status, so it follows the first column.
// bench/RESULTS.md carries the table. It takes minutes of CPU, so it
// runs only when asked; HERALD_SCALE_KB sets the file size (default
// 1024), HERALD_SCALE_N limits it to one group size, HERALD_SCALE_MBIT
// fixes the rate (default: auto), HERALD_SCALE_WAIT_S the registration
// wait (default 120), HERALD_SCALE_DEBUG logs the sender.
func TestScaleSimulation(t *testing.T) {
	if os.Getenv("HERALD_SCALE") == "" {
		t.Skip("scale simulation: set HERALD_SCALE=1 (1000 in-memory receivers take minutes of CPU)")
	}
	size := 1 << 20
	if kb, err := strconv.Atoi(os.Getenv("HERALD_SCALE_KB")); err == nil && kb > 0 {
		size = kb << 10
	}
	only, _ := strconv.Atoi(os.Getenv("HERALD_SCALE_N"))
	mbit, _ := strconv.ParseFloat(os.Getenv("HERALD_SCALE_MBIT"), 64) // 0: the default auto rate
	wait := 120 * time.Second                                         // for every receiver to register
	if sec, err := strconv.Atoi(os.Getenv("HERALD_SCALE_WAIT_S")); err == nil && sec > 0 {
		wait = time.Duration(sec) * time.Second
	}
	cases := []struct {
		receivers, bad int
	}{{1, 0}, {10, 0}, {100, 0}, {300, 0}, {1000, 0}, {1000, 10}}
	t.Logf("%d KB, rate %v Mbit/s (0: auto), load %s", size>>10, mbit, loadAverage())
	t.Logf("| receivers | loss | feedback datagrams/block | of which NACK statuses/block | feedback datagrams/s | shed/block | block NACKs/block | manifest NACKs/receiver | repair shards/block | wire/file | clean median | clean slowest | push | process CPU s |")
	t.Logf("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, c := range cases {
		if only > 0 && c.receivers != only {
			continue
		}
		synctest.Test(t, func(t *testing.T) { scaleCase(t, c.receivers, c.bad, size, mbit, wait) })
	}
}

// scaleCase runs one row of TestScaleSimulation in a synctest bubble:
// time there is virtual and moves only when every goroutine of the
// push waits, so the figures are the protocol's (round trips, timers,
// NACK suppression, pacing), not how a thousand receivers' AEAD and
// hashing share this machine's two cores. CPU is still measured, in
// real seconds.
func scaleCase(t *testing.T, receivers, badReceivers, size int, mbit float64, wait time.Duration) {
	c := struct{ receivers, bad int }{receivers, badReceivers}
	{
		l := newMemLab(t, c.receivers, multicast.Link{Loss: 0.05})
		for i := range c.bad {
			l.hosts[i].(*multicast.MemHost).SetLink(multicast.Link{Loss: 0.3})
		}
		src := writeTree(t, size, 5)
		results := l.startReceivers(t, func(_ int, rc *ReceiveConfig) { rc.SenderTimeout = 90 * time.Second })
		source, err := NewSource([]string{src})
		if err != nil {
			t.Fatal(err)
		}
		if os.Getenv("HERALD_SCALE_DEBUG") != "" {
			l.sender.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
		cpu0 := processCPU()
		start := time.Now()
		rep, err := Send(l.ctx, SendConfig{Node: l.sender, Source: source, Channel: identity.Channel{}, NoEncrypt: true,
			MinReceivers: c.receivers, Wait: wait, GiveUp: 90 * time.Second, Rate: mbit * 1e6})
		took := time.Since(start)
		cpu := processCPU() - cpu0
		if err != nil || !rep.OK() {
			// Logged, not fatal: how the engine fails at a scale is a result.
			t.Errorf("%d receivers: %v, %d of %d complete after %v; the others: %v", c.receivers, err, rep.Completed, c.receivers,
				took.Round(time.Millisecond), notComplete(rep))
			if rep == nil || rep.Completed == 0 {
				return
			}
		} else {
			for _, r := range results {
				if err := <-r; err != nil {
					t.Fatal(err)
				}
			}
		}
		blocks := float64((rep.Bytes + 64*1344 - 1) / (64 * 1344))
		var clean []time.Duration
		bad := map[string]bool{}
		for i := range c.bad {
			bad[l.receivers[i].ID.Name] = true
		}
		for _, r := range rep.Receivers {
			if !bad[r.Name] && r.Status == "complete" {
				clean = append(clean, r.Elapsed)
			}
		}
		if len(clean) == 0 {
			return
		}
		slices.Sort(clean)
		loss := "5 %"
		if c.bad > 0 {
			loss = fmt.Sprintf("5 %%, %d at 30 %%", c.bad)
		}
		fb := rep.Feedback
		t.Logf("| %d | %s | %.1f | %.1f | %.0f | %.1f | %.1f | %.1f | %.1f | %.3f | %v | %v | %v | %.1f |", c.receivers, loss,
			float64(fb.Statuses+fb.Shed)/blocks, float64(fb.NackStatuses)/blocks, float64(fb.Statuses+fb.Shed)/took.Seconds(),
			float64(fb.Shed)/blocks, float64(fb.Nacks)/blocks, float64(fb.ManifestNacks)/float64(c.receivers),
			float64(rep.Repair)/blocks, float64(rep.WireBytes)/float64(rep.Bytes), clean[len(clean)/2].Round(time.Millisecond),
			clean[len(clean)-1].Round(time.Millisecond), took.Round(time.Millisecond), cpu.Seconds())
	}
}

// notComplete counts the receivers that did not complete, by status and
// reason.
func notComplete(rep *Report) map[string]int {
	out := map[string]int{}
	if rep == nil {
		return out
	}
	for _, r := range rep.Receivers {
		if r.Status != "complete" {
			out[r.Status+": "+r.Reason]++
		}
	}
	return out
}

// processCPU is the user and system CPU this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loadAverage is the machine's 1-minute load, for the log.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil || len(b) < 4 {
		return "unknown"
	}
	return string(b[:4])
}
