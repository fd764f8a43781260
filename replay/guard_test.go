package replay

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is an injectable local clock.
type fakeClock struct{ now atomic.Int64 } // Unix milliseconds

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.now.Store(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.UnixMilli(c.now.Load()) }
func (c *fakeClock) ms() uint64              { return uint64(c.now.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.now.Add(d.Milliseconds()) }

func key(i byte) [32]byte { return [32]byte{i} }

func TestDefaults(t *testing.T) {
	g := NewGuard(Config{})
	c := g.cfg
	if c.MaxSkew != 2*time.Minute || c.Window != 1024 || c.MaxSenders != 4096 || c.EpochsPerSender != 4 || c.Now == nil {
		t.Fatalf("defaults: %+v", c)
	}
	for in, want := range map[int]int{1: 64, 64: 64, 100: 128, 1 << 30: MaxWindow} {
		if got := NewGuard(Config{Window: in}).cfg.Window; got != want {
			t.Errorf("Window %d rounds to %d, want %d", in, got, want)
		}
	}
}

func TestTimestampEdges(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now})
	skew := uint64(DefaultMaxSkew.Milliseconds())
	now := clock.ms()
	for i, tc := range []struct {
		name string
		ts   uint64
		want error
	}{
		{"now", now, nil},
		{"oldest accepted", now - skew, nil},
		{"one millisecond too old", now - skew - 1, ErrStale},
		{"zero", 0, ErrStale},
		{"newest accepted", now + skew, nil},
		{"one millisecond ahead of that", now + skew + 1, ErrFuture},
		{"largest timestamp", ^uint64(0), ErrFuture},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := g.Check(key(1), 1, uint64(i+1), tc.ts); !errors.Is(err, tc.want) {
				t.Fatalf("Check(ts=%d) = %v, want %v", tc.ts, err, tc.want)
			}
		})
	}
	t.Run("refused timestamps record nothing", func(t *testing.T) {
		if err := g.Check(key(1), 1, 3, now); err != nil { // counter 3 was stale above
			t.Fatalf("counter of a stale packet was consumed: %v", err)
		}
		if g.Senders() != 1 {
			t.Fatalf("%d senders", g.Senders())
		}
	})
	t.Run("a replay becomes stale as the clock moves", func(t *testing.T) {
		clock.advance(DefaultMaxSkew + time.Millisecond)
		if err := g.Check(key(1), 1, 1, now); !errors.Is(err, ErrStale) {
			t.Fatalf("old packet after the skew window: %v", err)
		}
	})
}

func TestCheckReplays(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, Window: 64})
	ts := clock.ms()
	type step struct {
		sender byte
		epoch  uint64
		ctr    uint64
		want   error
	}
	for _, st := range []step{
		{1, 7, 1, nil},
		{1, 7, 1, ErrReplay},
		{1, 7, 0, ErrReplay},
		{2, 7, 1, nil}, // other sender, same numbers
		{1, 8, 1, nil}, // same sender, other epoch
		{1, 7, 3, nil},
		{1, 7, 2, nil}, // late but in the window
		{1, 7, 100, nil},
		{1, 7, 36, ErrReplay}, // exactly 64 behind
		{1, 7, 37, nil},
		{1, 8, 1, ErrReplay},
	} {
		if err := g.Check(key(st.sender), st.epoch, st.ctr, ts); !errors.Is(err, st.want) {
			t.Fatalf("Check(sender %d, epoch %d, counter %d) = %v, want %v", st.sender, st.epoch, st.ctr, err, st.want)
		}
	}
}

func TestEpochs(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, EpochsPerSender: 2})
	s := key(1)
	t0 := clock.ms()
	check := func(name string, epoch, ctr, ts uint64, want error) {
		t.Helper()
		if err := g.Check(s, epoch, ctr, ts); !errors.Is(err, want) {
			t.Fatalf("%s: Check(epoch %d, counter %d, ts %+d) = %v, want %v", name, epoch, ctr, int64(ts-t0), err, want)
		}
	}
	check("epoch A starts", 0xA, 1, t0, nil)
	check("epoch A goes on", 0xA, 2, t0+10, nil)
	check("restart: epoch B", 0xB, 1, t0+20, nil)
	check("A still tracked: replay refused", 0xA, 2, t0+10, ErrReplay)
	check("A's late packet still accepted", 0xA, 3, t0+15, nil)
	check("restart: C retires A (newest t0+15)", 0xC, 1, t0+30, nil)
	check("A's seen packet is refused", 0xA, 2, t0+10, ErrReplay)
	check("A's newest packet is refused", 0xA, 3, t0+15, ErrReplay)
	check("B unaffected", 0xB, 2, t0+31, nil)
	check("an epoch older than all tracked is refused", 0xD, 1, t0+25, ErrReplay)
	check("refusal recorded nothing: C keeps its window", 0xC, 1, t0+30, ErrReplay)
	check("and C goes on", 0xC, 2, t0+32, nil)
	check("restart: E retires B", 0xE, 1, t0+40, nil)
	check("B's packets now refused", 0xB, 2, t0+31, ErrReplay)
	check("C and E both tracked", 0xC, 3, t0+41, nil)
	check("E continues", 0xE, 2, t0+42, nil)
	clock.advance(DefaultMaxSkew + time.Second)
	check("past the skew the retired epoch is stale", 0xA, 2, t0+10, ErrStale)
	check("a fresh restart is accepted", 0xF, 1, clock.ms(), nil)
}

// TestRetiredEpochComesBack: two processes share an identity, so their
// epochs overlap in time. An epoch that was retired returns through a
// packet never seen before; its earlier packets must stay refused
// although its window starts empty.
func TestRetiredEpochComesBack(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, EpochsPerSender: 2})
	s := key(1)
	t0 := clock.ms()
	for i, st := range []struct {
		epoch, ctr, ts uint64
		want           error
	}{
		{0xA, 1, t0 + 1, nil},
		{0xA, 2, t0 + 2, nil},
		{0xB, 1, t0 + 3, nil},
		{0xC, 1, t0 + 5, nil},        // retires A (newest t0+2)
		{0xA, 3, t0 + 10, nil},       // A's withheld packet: retires B, floor t0+3
		{0xA, 1, t0 + 1, ErrReplay},  // replay of A's first packet
		{0xA, 2, t0 + 2, ErrReplay},  // and second
		{0xB, 1, t0 + 3, ErrReplay},  // B's packet: older than all tracked
		{0xA, 4, t0 + 11, nil},       // A goes on
		{0xC, 2, t0 + 12, nil},       // so does C
		{0xA, 3, t0 + 10, ErrReplay}, // and A's window works
	} {
		if err := g.Check(s, st.epoch, st.ctr, st.ts); !errors.Is(err, st.want) {
			t.Fatalf("step %d: Check(epoch %X, counter %d, t0%+d) = %v, want %v", i, st.epoch, st.ctr, int64(st.ts-t0), err, st.want)
		}
	}
}

func TestSenderTableBounded(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, MaxSenders: 3})
	t0 := clock.ms()
	for i := byte(1); i <= 3; i++ {
		if err := g.Check(key(i), 1, 1, t0); err != nil {
			t.Fatal(err)
		}
	}
	clock.advance(time.Second)
	if err := g.Check(key(2), 1, 2, clock.ms()); err != nil { // 2 is now most recent
		t.Fatal(err)
	}
	if err := g.Check(key(4), 1, 1, clock.ms()); !errors.Is(err, ErrTooManySenders) {
		t.Fatalf("full table of live senders: %v, want ErrTooManySenders", err)
	}
	// Sender 1 expires once its newest timestamp falls out of the skew;
	// sender 2 refreshed a second later and has not.
	clock.advance(DefaultMaxSkew)
	if err := g.Check(key(4), 1, 1, clock.ms()); err != nil {
		t.Fatalf("expired least recently used sender not evicted: %v", err)
	}
	if n := g.Senders(); n != 3 {
		t.Fatalf("%d senders, want 3", n)
	}
	if err := g.Check(key(2), 1, 2, clock.ms()); !errors.Is(err, ErrReplay) {
		t.Fatalf("recently used sender lost its state: %v", err)
	}
	// Sender 3 expired with sender 1 and is next in line; then the
	// least recently used is sender 2, still live exactly at the edge.
	if err := g.Check(key(5), 1, 1, clock.ms()); err != nil {
		t.Fatalf("second expired sender not evicted: %v", err)
	}
	if err := g.Check(key(6), 1, 1, clock.ms()); !errors.Is(err, ErrTooManySenders) {
		t.Fatalf("live sender 2 evicted: %v", err)
	}
}

func TestSenderFloodDoesNotReopenReplay(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, MaxSenders: 16})
	victim := key(0)
	ts := clock.ms()
	if err := g.Check(victim, 1, 1, ts); err != nil {
		t.Fatal(err)
	}
	refused := 0
	for i := range 1000 {
		var k [32]byte
		k[0], k[1], k[2] = 1, byte(i), byte(i>>8)
		if errors.Is(g.Check(k, 1, 1, clock.ms()), ErrTooManySenders) {
			refused++
		}
	}
	if n := g.Senders(); n > 16 {
		t.Fatalf("%d senders tracked, bound is 16", n)
	}
	if refused != 1000-15 {
		t.Fatalf("%d flood senders refused, want %d", refused, 1000-15)
	}
	if err := g.Check(victim, 1, 1, ts); !errors.Is(err, ErrReplay) {
		t.Fatalf("after a flood of new keys the victim's packet replays: %v", err)
	}
}

func TestConcurrentCheckAcceptsOnce(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now})
	const workers, counters = 4, 500
	var accepted [counters + 1]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for c := uint64(1); c <= counters; c++ {
				if g.Check(key(byte(c%3)), 9, c, clock.ms()) == nil {
					accepted[c].Add(1)
				}
				if w == 0 && c%50 == 0 {
					clock.advance(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	for c := 1; c <= counters; c++ {
		if n := accepted[c].Load(); n != 1 {
			t.Fatalf("counter %d accepted %d times", c, n)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	g := NewGuard(Config{})
	now := uint64(time.Now().UnixMilli())
	var ctr uint64
	b.ReportAllocs()
	for b.Loop() {
		ctr++
		if err := g.Check(key(1), 1, ctr, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckParallelSenders(b *testing.B) {
	g := NewGuard(Config{})
	now := uint64(time.Now().UnixMilli())
	var next atomic.Uint32
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := key(byte(next.Add(1)))
		var ctr uint64
		for pb.Next() {
			ctr++
			if err := g.Check(k, 1, ctr, now); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCheckReplayRefused(b *testing.B) {
	g := NewGuard(Config{})
	now := uint64(time.Now().UnixMilli())
	g.Check(key(1), 1, 1, now)
	b.ReportAllocs()
	for b.Loop() {
		if g.Check(key(1), 1, 1, now) == nil {
			b.Fatal("replay accepted")
		}
	}
}
