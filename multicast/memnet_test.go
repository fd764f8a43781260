package multicast

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"testing"
	"time"
)

var (
	testGroupA = netip.MustParseAddrPort("239.255.72.250:47250")
	testGroupB = netip.MustParseAddrPort("239.255.72.251:47250")
)

func newMessages(n, size int) []Message {
	ms := make([]Message, n)
	for i := range ms {
		ms[i].Buf = make([]byte, size)
	}
	return ms
}

// seqPayloads returns n 8-byte payloads carrying 0..n-1.
func seqPayloads(n int) [][]byte {
	ps := make([][]byte, n)
	for i := range ps {
		ps[i] = binary.BigEndian.AppendUint64(nil, uint64(i))
	}
	return ps
}

// drainMem returns every datagram a MemConn has received so far, after
// flushing a datagram parked for reordering, without blocking.
func drainMem(t *testing.T, c Conn) []Message {
	t.Helper()
	mc := c.(*MemConn)
	mc.releaseHeld()
	var got []Message
	slab := newMessages(64*16, 64) // test payloads are short
	for {
		mc.mu.Lock()
		queued := mc.queue.len()
		mc.mu.Unlock()
		if queued == 0 {
			return got
		}
		if len(slab) == 0 {
			slab = newMessages(64*16, 64)
		}
		ms := slab[:64]
		slab = slab[64:]
		n, err := c.ReadBatch(ms)
		if err != nil {
			t.Fatalf("ReadBatch: %v", err)
		}
		got = append(got, ms[:n]...)
	}
}

func seqsOf(ms []Message) []uint64 {
	seqs := make([]uint64, len(ms))
	for i, m := range ms {
		seqs[i] = binary.BigEndian.Uint64(m.Buf[:m.N])
	}
	return seqs
}

func mustListen(t testing.TB, n Network, g netip.AddrPort) Conn {
	t.Helper()
	c, err := n.Listen(g)
	if err != nil {
		t.Fatalf("Listen(%v): %v", g, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestMemNetFanOutOnlyToGroup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		group  netip.AddrPort
		other  netip.AddrPort
		source netip.Addr
	}{
		{"ipv4", testGroupA, testGroupB, netip.MustParseAddr("198.18.0.1")},
		{"ipv6", netip.MustParseAddrPort("[ff12::4872]:47250"), netip.MustParseAddrPort("[ff12::4873]:47250"), netip.MustParseAddr("2001:2::1")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mn := NewMemNet(1)
			sender, peer := mn.Host(Link{}), mn.Host(Link{})
			self := mustListen(t, sender, tc.group) // sender's own host hears it too
			remote := mustListen(t, peer, tc.group)
			otherGroup := mustListen(t, peer, tc.other)

			if n, err := self.WriteBatch([][]byte{[]byte("one"), []byte("two")}, tc.group); n != 2 || err != nil {
				t.Fatalf("WriteBatch = %d, %v", n, err)
			}
			wantSrc := netip.AddrPortFrom(tc.source, tc.group.Port())
			for name, c := range map[string]Conn{"self": self, "remote": remote} {
				got := drainMem(t, c)
				if len(got) != 2 || string(got[0].Buf[:got[0].N]) != "one" || string(got[1].Buf[:got[1].N]) != "two" {
					t.Errorf("%s got %d datagrams, want \"one\", \"two\"", name, len(got))
				}
				for _, m := range got {
					if m.Src != wantSrc {
						t.Errorf("%s: Src = %v, want %v", name, m.Src, wantSrc)
					}
				}
			}
			if got := drainMem(t, otherGroup); len(got) != 0 {
				t.Errorf("conn on %v received %d datagrams sent to %v", tc.other, len(got), tc.group)
			}
			if self.LocalAddr() != wantSrc {
				t.Errorf("LocalAddr = %v, want %v", self.LocalAddr(), wantSrc)
			}
		})
	}
}

func TestMemNetTruncatesToBuffer(t *testing.T) {
	mn := NewMemNet(1)
	c := mustListen(t, mn.Host(Link{}), testGroupA)
	if _, err := c.WriteBatch([][]byte{[]byte("0123456789")}, testGroupA); err != nil {
		t.Fatal(err)
	}
	ms := newMessages(1, 4)
	if n, err := c.ReadBatch(ms); n != 1 || err != nil || string(ms[0].Buf[:ms[0].N]) != "0123" {
		t.Fatalf("ReadBatch = %d, %v, %q; want 1 datagram \"0123\"", n, err, ms[0].Buf[:ms[0].N])
	}
}

func TestMemNetLossRate(t *testing.T) {
	const sent = 20000
	for _, loss := range []float64{0, 0.05, 0.3, 0.9, 1} {
		t.Run(fmt.Sprintf("loss=%v", loss), func(t *testing.T) {
			mn := NewMemNet(42)
			tx := mustListen(t, mn.Host(Link{}), testGroupB)
			rx := mustListen(t, mn.Host(Link{Loss: loss, QueueLen: sent}), testGroupA)
			if _, err := tx.WriteBatch(seqPayloads(sent), testGroupA); err != nil {
				t.Fatal(err)
			}
			got := len(drainMem(t, rx))
			observed := 1 - float64(got)/sent
			// 6 standard deviations of a binomial proportion, plus slack.
			tolerance := 6*math.Sqrt(loss*(1-loss)/sent) + 1e-9
			if math.Abs(observed-loss) > tolerance {
				t.Errorf("loss %.2f: observed %.4f (received %d of %d), tolerance %.4f", loss, observed, got, sent, tolerance)
			}
			if st := mn.Stats(); st.Lost != uint64(sent-got) || st.Sent != sent {
				t.Errorf("Stats = %+v, want Sent %d Lost %d", st, sent, sent-got)
			}
		})
	}
}

// lossBursts returns the lengths of the runs of missing sequence numbers.
func lossBursts(received []uint64, sent int) []int {
	seen := make([]bool, sent)
	for _, s := range received {
		seen[s] = true
	}
	var bursts []int
	run := 0
	for _, ok := range seen {
		if !ok {
			run++
			continue
		}
		if run > 0 {
			bursts = append(bursts, run)
		}
		run = 0
	}
	if run > 0 {
		bursts = append(bursts, run)
	}
	return bursts
}

func TestMemNetBurstLoss(t *testing.T) {
	const sent = 40000
	for _, tc := range []struct {
		enter   float64
		meanLen int
	}{{0.005, 1}, {0.005, 8}, {0.002, 30}} {
		t.Run(fmt.Sprintf("enter=%v,len=%d", tc.enter, tc.meanLen), func(t *testing.T) {
			mn := NewMemNet(7)
			tx := mustListen(t, mn.Host(Link{}), testGroupA)
			rx := mustListen(t, mn.Host(Link{BurstLoss: tc.enter, BurstLen: tc.meanLen, QueueLen: sent}), testGroupA)
			tx.WriteBatch(seqPayloads(sent), testGroupA)
			bursts := lossBursts(seqsOf(drainMem(t, rx)), sent)
			if len(bursts) < 20 {
				t.Fatalf("only %d bursts in %d datagrams with entry probability %v", len(bursts), sent, tc.enter)
			}
			total := 0
			for _, b := range bursts {
				total += b
			}
			mean := float64(total) / float64(len(bursts))
			// Runs merge when a burst starts right after one ends, which
			// biases the mean up slightly; 35% covers that and the noise.
			if math.Abs(mean-float64(tc.meanLen)) > 0.35*float64(tc.meanLen)+0.2 {
				t.Errorf("mean burst length %.2f over %d bursts, want about %d", mean, len(bursts), tc.meanLen)
			}
		})
	}
}

func TestMemNetReorderAndDuplicate(t *testing.T) {
	const sent = 10000
	for _, tc := range []struct {
		name               string
		link               Link
		wantDup, wantSwaps float64 // expected fractions of sent
	}{
		{"clean", Link{}, 0, 0},
		{"reorder", Link{Reorder: 0.1}, 0, 0.1},
		{"duplicate", Link{Duplicate: 0.2}, 0.2, 0},
		{"both", Link{Reorder: 0.05, Duplicate: 0.05}, 0.05, 0.05},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mn := NewMemNet(3)
			tc.link.QueueLen = 2 * sent
			tx := mustListen(t, mn.Host(Link{}), testGroupA)
			rx := mustListen(t, mn.Host(tc.link), testGroupA)
			tx.WriteBatch(seqPayloads(sent), testGroupA)
			seqs := seqsOf(drainMem(t, rx))

			counts := make([]int, sent)
			late := 0
			var highest uint64
			for i, s := range seqs {
				counts[s]++
				if i > 0 && s < highest {
					late++
				}
				highest = max(highest, s)
			}
			dups := 0
			for s, n := range counts {
				if n == 0 || n > 2 {
					t.Fatalf("seq %d delivered %d times; reorder and duplicate must not lose or triplicate", s, n)
				}
				dups += n - 1
			}
			check := func(what string, got int, want float64) {
				tolerance := 6*math.Sqrt(want*(1-want)/sent) + 0.003
				if math.Abs(float64(got)/sent-want) > tolerance {
					t.Errorf("%s: %d of %d (%.4f), want about %.3f", what, got, sent, float64(got)/sent, want)
				}
			}
			check("duplicates", dups, tc.wantDup)
			check("late arrivals", late, tc.wantSwaps)
		})
	}
}

func TestMemNetDeterministicBySeed(t *testing.T) {
	for _, tc := range []struct {
		name string
		link Link
		// A reordered datagram waits for its successor at most reorderHold
		// of wall time, so with Reorder only the set of deliveries (not
		// their order) is independent of scheduling.
		exactOrder bool
	}{
		{"loss, bursts, duplicates", Link{Loss: 0.1, BurstLoss: 0.01, BurstLen: 4, Duplicate: 0.1}, true},
		{"with reorder", Link{Loss: 0.1, BurstLoss: 0.01, BurstLen: 4, Reorder: 0.1, Duplicate: 0.1}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(seed int64) [][]uint64 {
				mn := NewMemNet(seed)
				tx := mustListen(t, mn.Host(tc.link), testGroupA)
				rxs := []Conn{tx, mustListen(t, mn.Host(tc.link), testGroupA), mustListen(t, mn.Host(tc.link), testGroupA)}
				for range 10 {
					tx.WriteBatch(seqPayloads(200), testGroupA)
				}
				var out [][]uint64
				for _, rx := range rxs {
					seqs := seqsOf(drainMem(t, rx))
					if !tc.exactOrder {
						slices.Sort(seqs)
					}
					out = append(out, seqs)
				}
				return out
			}
			first, again, other := run(99), run(99), run(100)
			for i := range first {
				if !slices.Equal(first[i], again[i]) {
					t.Errorf("receiver %d: same seed gave different deliveries", i)
				}
			}
			if slices.Equal(first[1], other[1]) {
				t.Error("different seeds gave identical deliveries")
			}
			if slices.Equal(first[1], first[2]) {
				t.Error("two receivers with the same link drew identical fates; impairments must be independent per receiver")
			}
		})
	}
}

func TestMemNetQueueOverflowDropsAndCounts(t *testing.T) {
	mn := NewMemNet(1)
	rx := mustListen(t, mn.Host(Link{QueueLen: 10}), testGroupA)
	n, err := rx.WriteBatch(seqPayloads(25), testGroupA) // must not block
	if n != 25 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	if got := seqsOf(drainMem(t, rx)); !slices.Equal(got, []uint64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Errorf("received %v, want the first 10", got)
	}
	if d, _ := rx.(*MemConn).Dropped(); d != 15 {
		t.Errorf("Dropped = %d, want 15", d)
	}
	if d := mn.Stats().QueueDropped; d != 15 {
		t.Errorf("Stats.QueueDropped = %d, want 15", d)
	}
}

func TestMemNetSetLinkOutage(t *testing.T) {
	mn := NewMemNet(1)
	host := mn.Host(Link{})
	rx := mustListen(t, host, testGroupA)
	for _, tc := range []struct {
		link Link
		want int
	}{{Link{Loss: 1}, 0}, {Link{}, 5}, {Link{BurstLoss: 1, BurstLen: 1000}, 0}} {
		host.SetLink(tc.link)
		rx.WriteBatch(seqPayloads(5), testGroupA)
		if got := len(drainMem(t, rx)); got != tc.want {
			t.Errorf("link %+v: received %d, want %d", tc.link, got, tc.want)
		}
	}
}

func TestMemNetCloseUnblocksWithoutLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	mn := NewMemNet(1)
	host := mn.Host(Link{Reorder: 1})
	rx, err := host.Listen(testGroupA)
	if err != nil {
		t.Fatal(err)
	}
	stay := mustListen(t, host, testGroupA)
	done := make(chan error, 1)
	go func() {
		_, err := rx.ReadBatch(newMessages(4, 100))
		done <- err
	}()
	rx.WriteBatch(seqPayloads(1), testGroupA) // parked by Reorder: 1, arms a timer
	time.Sleep(5 * time.Millisecond)
	drainMem(t, stay)
	if err := rx.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		// The reader may have got the parked datagram before Close.
		if err != nil && !errors.Is(err, net.ErrClosed) {
			t.Fatalf("ReadBatch after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ReadBatch still blocked 5s after Close")
	}
	if _, err := rx.ReadBatch(newMessages(1, 10)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("ReadBatch on closed conn: %v, want net.ErrClosed", err)
	}
	if _, err := rx.WriteBatch(seqPayloads(1), testGroupA); !errors.Is(err, net.ErrClosed) {
		t.Errorf("WriteBatch on closed conn: %v, want net.ErrClosed", err)
	}
	if err := rx.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	// The group still works for the remaining listener.
	host.SetLink(Link{})
	stay.WriteBatch(seqPayloads(1), testGroupA)
	if got := len(drainMem(t, stay)); got != 1 {
		t.Errorf("remaining listener got %d datagrams, want 1", got)
	}
	stay.Close()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after close", before, runtime.NumGoroutine())
		}
		time.Sleep(time.Millisecond)
	}
}

func TestMemNetRejectsNonGroups(t *testing.T) {
	mn := NewMemNet(1)
	h := mn.Host(Link{})
	c := mustListen(t, h, testGroupA)
	for _, bad := range []string{"198.18.0.5:47250", "239.1.2.3:0", "[2001:2::1]:47250"} {
		ap := netip.MustParseAddrPort(bad)
		if _, err := h.Listen(ap); !errors.Is(err, ErrNotMulticastGroup) {
			t.Errorf("Listen(%v) error %v, want ErrNotMulticastGroup", ap, err)
		}
		if _, err := c.WriteBatch(seqPayloads(1), ap); !errors.Is(err, ErrNotMulticastGroup) {
			t.Errorf("WriteBatch(%v) error %v, want ErrNotMulticastGroup", ap, err)
		}
	}
}

func TestMemHostAddresses(t *testing.T) {
	mn := NewMemNet(1)
	var last *MemHost
	for range 300 {
		last = mn.Host(Link{})
	}
	if want := netip.MustParseAddr("198.18.1.44"); last.Addr() != want {
		t.Errorf("host 300 has %v, want %v", last.Addr(), want)
	}
}

func BenchmarkMemNet(b *testing.B) {
	const batch, size = 32, 1200
	mn := NewMemNet(1)
	tx := mustListen(b, mn.Host(Link{}), testGroupB)
	rx := mustListen(b, mn.Host(Link{}), testGroupA)
	payloads := make([][]byte, batch)
	for i := range payloads {
		payloads[i] = make([]byte, size)
	}
	ms := newMessages(batch, size)
	b.SetBytes(batch * size)
	b.ReportAllocs()
	for b.Loop() {
		tx.WriteBatch(payloads, testGroupA)
		for got := 0; got < batch; {
			n, err := rx.ReadBatch(ms)
			if err != nil {
				b.Fatal(err)
			}
			got += n
		}
	}
}
