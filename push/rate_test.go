package push

import (
	"math/rand/v2"
	"testing"
	"time"
)

// rateLab drives a rate controller with a fake clock and receivers whose
// loss is a function of the current rate, as on a network: every tick
// each receiver "receives" shardsPerTick(rate) shards and loses a share
// drawn from its loss model.
type rateLab struct {
	t   *testing.T
	rc  rateController
	now time.Time
	rng *rand.Rand
	// loss[i](rate) is receiver i's network loss share at that rate;
	// overflow[i](rate) its own-socket drop share.
	loss     []func(rate float64) float64
	overflow []func(rate float64) float64
	samples  []rateSample
}

func newRateLab(t *testing.T, receivers int) *rateLab {
	l := &rateLab{t: t, rc: newRateController(0, 1e9), now: time.Unix(1_790_000_000, 0), rng: rand.New(rand.NewPCG(1, 2))}
	for range receivers {
		l.loss = append(l.loss, func(float64) float64 { return 0 })
		l.overflow = append(l.overflow, func(float64) float64 { return 0 })
	}
	return l
}

// run advances n ticks and returns the rate after the last.
func (l *rateLab) run(n int) float64 {
	for range n {
		l.now = l.now.Add(rateTick)
		rate := l.rc.rate()
		shards := uint32(rate * rateTick.Seconds() / 8 / 1300) // datagrams of ~1300 bytes
		l.samples = l.samples[:0]
		for i := range l.loss {
			var lost, over uint32
			for range shards {
				switch x := l.rng.Float64(); {
				case x < l.loss[i](rate):
					lost++
				case x < l.loss[i](rate)+l.overflow[i](rate):
					over++
				}
			}
			l.samples = append(l.samples, rateSample{peer: i, received: shards - lost - over, lost: lost, overflow: over})
		}
		l.rc.update(l.now, sendSample{}, l.samples, len(l.loss))
	}
	return l.rc.rate()
}

func steady(share float64) func(float64) float64 { return func(float64) float64 { return share } }

// bottleneck loses what exceeds capacity bit/s (a full queue), plus path.
func bottleneck(capacity, path float64) func(float64) float64 {
	return func(rate float64) float64 {
		if rate <= capacity {
			return path
		}
		return path + (1-path)*(1-capacity/rate)
	}
}

// One receiver of five behind a 20 % lossy path: its loss is steady, so it
// is that receiver's path, served by FEC and repair. The rate climbs to the
// ceiling as if it were not there.
func TestRatePathLossOnOneReceiverDoesNotLowerIt(t *testing.T) {
	for _, loss := range []float64{0.05, 0.2, 0.5} {
		l := newRateLab(t, 5)
		l.loss[4] = steady(loss)
		if got := l.run(60); got < 0.99e9 {
			t.Errorf("one receiver at %.0f %% path loss: rate %.0f Mbit/s after 6 s, want the 1000 Mbit/s ceiling", 100*loss, got/1e6)
		}
	}
	// All of them on a lossy path is not congestion either.
	l := newRateLab(t, 3)
	for i := range l.loss {
		l.loss[i] = steady(0.05)
	}
	if got := l.run(60); got < 0.99e9 {
		t.Errorf("three receivers at 5 %% path loss: rate %.0f Mbit/s, want the ceiling", got/1e6)
	}
}

// Loss that rises with the rate at every receiver is congestion: the rate
// backs off to the bottleneck, then keeps probing near it (recovery).
func TestRateCorrelatedLossBacksOffThenRecovers(t *testing.T) {
	l := newRateLab(t, 4)
	capacity := 300e6
	for i := range l.loss {
		l.loss[i] = bottleneck(capacity, 0.01)
	}
	var low, high float64 = 1e12, 0
	l.run(50) // slow start overshoots, then backs off
	for range 100 {
		r := l.run(1)
		low, high = min(low, r), max(high, r)
	}
	t.Logf("near a %.0f Mbit/s bottleneck the rate ranged %.0f-%.0f Mbit/s", capacity/1e6, low/1e6, high/1e6)
	if high > 1.3*capacity || low < 0.4*capacity {
		t.Errorf("bottleneck at %.0f Mbit/s: rate ranged %.0f-%.0f Mbit/s, want it held near the bottleneck", capacity/1e6, low/1e6, high/1e6)
	}
	// The bottleneck goes away: the rate recovers to the ceiling.
	for i := range l.loss {
		l.loss[i] = steady(0.01)
	}
	if got := l.run(150); got < 0.99e9 {
		t.Errorf("bottleneck gone: rate %.0f Mbit/s after 15 s, want it back at the ceiling", got/1e6)
	}
}

// A receiver whose own socket overflows slows the sender, but one receiver
// never takes the rate below the floor: the others finish at their pace.
func TestRateOverflowSlowsItButTheFloorHolds(t *testing.T) {
	l := newRateLab(t, 5)
	l.run(30) // to the ceiling
	if got := l.rc.rate(); got < 0.99e9 {
		t.Fatalf("clean room: rate %.0f Mbit/s, want the ceiling", got/1e6)
	}
	// Receiver 0 can only read 50 Mbit/s: the rest overflows its socket.
	l.overflow[0] = func(rate float64) float64 { return max(0, 1-50e6/rate) }
	got := l.run(50)
	floor := rateFloorPart * 1e9
	if got > 0.9e9 {
		t.Errorf("an overflowing receiver: rate still %.0f Mbit/s, want it slowed", got/1e6)
	}
	if got < floor*0.999 {
		t.Errorf("one overflowing receiver took the rate to %.0f Mbit/s, below the floor %.0f", got/1e6, floor/1e6)
	}
	// When most receivers overflow it is the room's limit: below the floor.
	for i := range 3 {
		l.overflow[i] = func(rate float64) float64 { return max(0, 1-50e6/rate) }
	}
	if got := l.run(50); got > 100e6 {
		t.Errorf("three of five receivers overflow above 50 Mbit/s: rate %.0f Mbit/s, want near 50", got/1e6)
	}
}

// Overflow reports slow the sender even with a single receiver, and the
// rate comes back once the receiver keeps up again.
func TestRateOverflowOfOnlyReceiver(t *testing.T) {
	l := newRateLab(t, 1)
	l.overflow[0] = func(rate float64) float64 { return max(0, 1-200e6/rate) }
	got := l.run(80)
	if got > 260e6 || got < 120e6 {
		t.Errorf("a lone receiver that reads 200 Mbit/s: rate %.0f Mbit/s, want near 200", got/1e6)
	}
	l.overflow[0] = steady(0)
	if got := l.run(150); got < 0.99e9 {
		t.Errorf("it keeps up again: rate %.0f Mbit/s, want the ceiling", got/1e6)
	}
}

// A fixed rate never moves, and still learns path losses for parity.
func TestRateFixedStaysAndLearnsBaselines(t *testing.T) {
	l := newRateLab(t, 2)
	l.rc = newRateController(300e6, 300e6)
	l.loss[1] = bottleneck(100e6, 0.03)
	if got := l.run(30); got != 300e6 {
		t.Fatalf("fixed rate moved to %.0f", got)
	}
	if b, ok := l.rc.baseline(0); !ok || b > 0.001 {
		t.Errorf("clean receiver's baseline %.3f %v", b, ok)
	}
}

// The sender's own link full (writes blocked most of a tick) sets the
// rate to what got written.
func TestRateSenderQueueFull(t *testing.T) {
	rc := newRateController(0, 1e9)
	now := time.Unix(0, 0)
	samples := []rateSample{{peer: 0, received: 10000}}
	for range 10 {
		now = now.Add(rateTick)
		rc.update(now, sendSample{}, samples, 1)
	}
	before := rc.rate()
	now = now.Add(rateTick)
	written := int64(100e6 / 8 * rateTick.Seconds()) // 100 Mbit/s worth
	got := rc.update(now, sendSample{bytes: written, blocked: 90 * time.Millisecond}, samples, 1)
	if got > 101e6 || got >= before {
		t.Errorf("writes blocked 90 %% of the tick at 100 Mbit/s: rate %.0f Mbit/s (was %.0f), want 100", got/1e6, before/1e6)
	}
}

// Without fresh reports (receivers' statuses late or lost) the rate does
// not grow: it would be growing blind.
func TestRateDoesNotGrowBlind(t *testing.T) {
	rc := newRateController(0, 1e9)
	now := time.Unix(0, 0)
	for range 20 {
		now = now.Add(rateTick)
		rc.update(now, sendSample{}, nil, 3)
	}
	if got := rc.rate(); got != rateStart {
		t.Errorf("20 ticks with no report: rate %.0f Mbit/s, want the start rate %.0f", got/1e6, rateStart/1e6)
	}
}

// Once the others completed, the one receiver left behind a congested or
// lossy path is still one of the room: its loss does not take the rate
// below the floor (repair catches it up).
func TestRateLaggardAloneIsStillAMinority(t *testing.T) {
	l := newRateLab(t, 1)
	l.run(30) // clean: to the ceiling
	l.loss[0] = bottleneck(20e6, 0.2)
	l.rc.(*autoRate).paths = pathLoss{} // as if it were new
	got := 0.0
	for range 50 {
		l.now = l.now.Add(rateTick)
		got = l.rc.update(l.now, sendSample{}, []rateSample{{peer: 0, received: 5000, lost: 5000}}, 5)
	}
	if got < rateFloorPart*1e9*0.999 {
		t.Errorf("one laggard of a room of five: rate %.0f Mbit/s, below the floor", got/1e6)
	}
}

// Before any clean interval the floor is half the start rate: a receiver
// overflowing in the first ticks cannot take the push to a crawl.
func TestRateFloorAtStart(t *testing.T) {
	l := newRateLab(t, 5)
	l.overflow[0] = steady(0.5)
	l.run(5)
	if got := l.rc.rate(); got < rateFloorPart*rateStart*0.999 {
		t.Errorf("one receiver overflowing from the start: rate %.0f Mbit/s, want at least %.0f", got/1e6, rateFloorPart*rateStart/1e6)
	}
}

// A laggard left alone whose statuses fall behind what is written (its
// own queue) is still one of the room: the queue rule does not take the
// rate below the floor for it either.
func TestRateQueueRuleRespectsTheFloorForALaggard(t *testing.T) {
	rc := newRateController(0, 1e9)
	now := time.Unix(0, 0)
	for range 30 { // a clean room of five to the ceiling
		now = now.Add(rateTick)
		var samples []rateSample
		for i := range 5 {
			samples = append(samples, rateSample{peer: i, received: 9000})
		}
		rc.update(now, sendSample{}, samples, 5)
	}
	for range 30 { // one left, accounting for a tenth of what is written
		now = now.Add(rateTick)
		written := rc.rate() / 8 / 1300
		rc.update(now, sendSample{bytes: 1, rate: written, perDatagram: 1300},
			[]rateSample{{peer: 0, received: 1000, arrivalRate: written / 10}}, 5)
	}
	if got := rc.rate(); got < rateFloorPart*1e9*0.999 {
		t.Errorf("a lone laggard's queue took the rate to %.0f Mbit/s, below the floor", got/1e6)
	}
}
