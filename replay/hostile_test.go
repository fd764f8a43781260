package replay

import (
	"errors"
	"net/netip"
	"testing"
	"time"
)

// TestFloodDoesNotLockOutProtected is issue 18 item 3: ~4200 fresh keys
// fill the table while the teacher is quiet for two minutes; the teacher
// (a protected key) must still be accepted afterwards, and the flood must
// cost no more than the stranger table.
func TestFloodDoesNotLockOutProtected(t *testing.T) {
	clock := newFakeClock()
	teacher := key(0xEE)
	g := NewGuard(Config{Now: clock.Now, Protected: func(k [32]byte) bool { return k == teacher }})
	if err := g.Check(teacher, 1, 1, clock.ms()); err != nil {
		t.Fatal(err)
	}
	clock.advance(DefaultMaxSkew + time.Second) // the teacher goes quiet
	refused := 0
	for i := range 4200 {
		k := [32]byte{1, byte(i), byte(i >> 8)}
		src := netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)}) // a spoofed source each
		if g.CheckFrom(k, src, 1, 1, clock.ms()) != nil {
			refused++
		}
		clock.advance(time.Millisecond)
	}
	t.Logf("4200 fresh keys from spoofed addresses: %d refused, %d senders tracked", refused, g.Senders())
	if refused == 0 {
		t.Fatal("a flood larger than the table was admitted whole")
	}
	if n := g.Senders(); n > DefaultMaxSenders+DefaultMaxProtected {
		t.Fatalf("%d senders tracked", n)
	}
	if err := g.Check(teacher, 1, 2, clock.ms()); err != nil {
		t.Fatalf("teacher locked out after the flood: %v", err)
	}
	if err := g.Check(teacher, 2, 1, clock.ms()); err != nil { // a restarted teacher
		t.Fatalf("restarted teacher locked out: %v", err)
	}
}

// TestProtectedFirstSeenDuringFlood: a protected key arriving only after
// strangers filled the table takes a reserved slot.
func TestProtectedFirstSeenDuringFlood(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, MaxSenders: 8})
	for i := range 8 {
		if err := g.Check(key(byte(i+1)), 1, 1, clock.ms()); err != nil {
			t.Fatal(err)
		}
	}
	owner := key(0xCC)
	if err := g.Check(owner, 1, 1, clock.ms()); !errors.Is(err, ErrTooManySenders) {
		t.Fatalf("before the hook: %v", err)
	}
	g.SetProtected(func(k [32]byte) bool { return k == owner })
	if err := g.Check(owner, 1, 1, clock.ms()); err != nil {
		t.Fatalf("protected key refused: %v", err)
	}
	if g.Protected() != 1 {
		t.Fatalf("protected = %d", g.Protected())
	}
}

func TestNewSendersPerAddressBounded(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now, NewPerAddr: 4})
	flooder := netip.MustParseAddr("198.18.0.66")
	honest := netip.MustParseAddr("198.18.0.7")
	for i := range 10 {
		err := g.CheckFrom(key(byte(i+1)), flooder, 1, 1, clock.ms())
		if (i < 4) != (err == nil) {
			t.Fatalf("key %d from one address: %v", i, err)
		}
	}
	if err := g.CheckFrom(key(0x70), honest, 1, 1, clock.ms()); err != nil {
		t.Fatalf("another address refused: %v", err)
	}
	if err := g.CheckFrom(key(1), flooder, 1, 2, clock.ms()); err != nil {
		t.Fatalf("a known sender from the busy address: %v", err)
	}
	clock.advance(DefaultMaxSkew)
	if err := g.CheckFrom(key(0x50), flooder, 1, 1, clock.ms()); err != nil {
		t.Fatalf("next period: %v", err)
	}
}

// TestDuplicateOrReplay is issue 19 item 4: a copy arriving at once is
// ErrDuplicate (herald's own), the same packet later is a replay.
func TestDuplicateOrReplay(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now})
	ts := clock.ms()
	if err := g.Check(key(1), 1, 1, ts); err != nil {
		t.Fatal(err)
	}
	clock.advance(10 * time.Millisecond)
	if err := g.Check(key(1), 1, 1, ts); !errors.Is(err, ErrDuplicate) || !errors.Is(err, ErrReplay) {
		t.Fatalf("immediate copy: %v", err)
	}
	clock.advance(DefaultDuplicateGrace + time.Second)
	err := g.Check(key(1), 1, 1, ts)
	if !errors.Is(err, ErrReplay) || errors.Is(err, ErrDuplicate) {
		t.Fatalf("late copy: %v, want a replay", err)
	}
	// The sender moved on: a copy of an old packet is a replay even if the
	// epoch's newest packet was just accepted.
	now := clock.ms()
	if err := g.Check(key(1), 1, 2, now); err != nil {
		t.Fatal(err)
	}
	if err := g.Check(key(1), 1, 1, ts); errors.Is(err, ErrDuplicate) {
		t.Fatalf("old packet counted as a copy: %v", err)
	}
}

// TestStateSurvivesRestart is issue 18 item 6: what one process accepted
// is refused by the next one loaded from its saved state.
func TestStateSurvivesRestart(t *testing.T) {
	clock := newFakeClock()
	g := NewGuard(Config{Now: clock.Now})
	ts := clock.ms()
	for c := uint64(1); c <= 3; c++ {
		if err := g.Check(key(1), 9, c, ts+c); err != nil {
			t.Fatal(err)
		}
	}
	g.Check(key(2), 9, 1, ts-uint64(DefaultMaxSkew.Milliseconds())) // about to go stale
	clock.advance(time.Second)
	saved := g.AppendState(nil)

	restarted := NewGuard(Config{Now: clock.Now})
	if err := restarted.LoadState(saved); err != nil {
		t.Fatal(err)
	}
	for c := uint64(1); c <= 3; c++ {
		if err := restarted.Check(key(1), 9, c, ts+c); !errors.Is(err, ErrReplay) {
			t.Fatalf("captured packet %d after restart: %v", c, err)
		}
	}
	if err := restarted.Check(key(1), 9, 4, clock.ms()); err != nil {
		t.Fatalf("the sender's next packet: %v", err)
	}
	if err := restarted.Check(key(1), 10, 1, clock.ms()+1); err != nil {
		t.Fatalf("the sender restarted too: %v", err)
	}
	if restarted.Senders() != 1 {
		t.Fatalf("stale sender restored: %d senders", restarted.Senders())
	}
	if err := restarted.LoadState(saved[:len(saved)-1]); !errors.Is(err, ErrBadState) {
		t.Fatalf("truncated state: %v", err)
	}
	merged := g.MergeState(saved, restarted.AppendState(nil))
	if list, err := parseSaved(merged); err != nil || len(list) != 1 || list[0].newest != clock.ms()+1 {
		t.Fatalf("merge: %v %+v", err, list)
	}
}

func FuzzLoadState(f *testing.F) {
	g := NewGuard(Config{})
	g.Check(key(1), 1, 1, uint64(time.Now().UnixMilli()))
	f.Add(g.AppendState(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		g := NewGuard(Config{MaxSenders: 4})
		if g.LoadState(b) == nil && g.Senders() > 4 {
			t.Fatal("unbounded load")
		}
	})
}
