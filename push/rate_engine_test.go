package push

import (
	"strings"
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
)

// pushAll runs a default (auto rate) push of a size-byte tree to every
// receiver of l and checks each got it.
func pushAll(t *testing.T, l *memLab, size int, mod func(*SendConfig)) *Report {
	t.Helper()
	src := writeTree(t, size, uint64(size))
	results := l.startReceivers(t, nil)
	source, err := NewSource([]string{src})
	if err != nil {
		t.Fatal(err)
	}
	cfg := SendConfig{Node: l.sender, Source: source, Recipients: l.recipients(), Wait: 5 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	rep, err := Send(l.ctx, cfg)
	if err != nil || !rep.OK() {
		t.Fatalf("send: %v %+v", err, rep)
	}
	l.checkReceived(t, results, src)
	return rep
}

// fixedRateK32 is the engine tests' push: 200 Mbit/s, blocks of 32.
func fixedRateK32(c *SendConfig) { c.Rate, c.K = 200e6, 32 }

func reportOf(t *testing.T, rep *Report, name string) ReceiverReport {
	t.Helper()
	for _, r := range rep.Receivers {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("%s not in report %+v", name, rep.Receivers)
	return ReceiverReport{}
}

// One receiver of four behind a 20 % lossy link: everyone completes with
// the default rate, and the report reads each receiver's own first-pass
// loss (the lossy one near 20 %, the others near 0), not the worst
// interval it ever had.
func TestPushPerReceiverLoss(t *testing.T) {
	l := newMemLab(t, 4, multicast.Link{})
	l.hosts[3].(*multicast.MemHost).SetLink(multicast.Link{Loss: 0.2})
	rep := pushAll(t, l, 6<<20, nil)
	for i, r := range l.receivers {
		rr := reportOf(t, rep, r.ID.Name)
		lo, hi := 0.0, 0.02
		if i == 3 {
			lo, hi = 0.15, 0.25
		}
		if rr.Loss < lo || rr.Loss > hi {
			t.Errorf("%s: report loss %.1f %%, want %.0f-%.0f %%", rr.Name, 100*rr.Loss, 100*lo, 100*hi)
		}
		t.Logf("%s: %s in %v, loss %.1f %%, overflow %.1f %%", rr.Name, rr.Status, rr.Elapsed, 100*rr.Loss, 100*rr.Overflow)
	}
}

// 1 % loss on every link reads 0.5-2 % in the report.
func TestPushReportLossOnePercent(t *testing.T) {
	l := newMemLab(t, 3, multicast.Link{Loss: 0.01})
	rep := pushAll(t, l, 8<<20, nil)
	for _, rr := range rep.Receivers {
		if rr.Loss < 0.005 || rr.Loss > 0.02 {
			t.Errorf("%s: 1 %% link loss reads %.2f %%, want 0.5-2 %%", rr.Name, 100*rr.Loss)
		}
	}
}

// A receiver that cannot read as fast as the others (a receive queue of
// 16 datagrams against batches of 32) overflows its own queue: it still
// completes, the report says it was overloaded, and its drops are not
// counted as network loss.
func TestPushSlowReceiverReportedOverloaded(t *testing.T) {
	l := newMemLab(t, 3, multicast.Link{})
	l.hosts[2].(*multicast.MemHost).SetLink(multicast.Link{QueueLen: 16})
	rep := pushAll(t, l, 4<<20, nil)
	slow := reportOf(t, rep, l.receivers[2].ID.Name)
	if slow.Overflow < overflowMin || !strings.Contains(slow.Reason, "receiver overloaded") {
		t.Errorf("slow receiver: overflow %.1f %%, reason %q; want it reported overloaded", 100*slow.Overflow, slow.Reason)
	}
	if slow.Loss > 0.02 {
		t.Errorf("slow receiver: its own drops read as %.1f %% network loss", 100*slow.Loss)
	}
	for _, rr := range rep.Receivers {
		t.Logf("%s: %s in %v, loss %.1f %%, overflow %.1f %% %s", rr.Name, rr.Status, rr.Elapsed, 100*rr.Loss, 100*rr.Overflow, rr.Reason)
	}
}
