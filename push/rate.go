package push

import (
	"math"
	"slices"
	"time"
)

// Rate control constants (SPEC.md §6.7). One block, so the algorithm's
// knobs are read together.
const (
	rateStart     = 100e6 // bit/s before the first report: any wired LAN carries it
	rateMin       = 1e6   // bit/s; correlated congestion never cuts below this
	rateFloorMin  = 10e6  // bit/s; the floor is never below this
	rateFloorPart = 0.5   // floor: this share of the highest rate that ran clean
	rateTick      = 100 * time.Millisecond
	rateWarmup    = 150 * time.Millisecond // first reports describe intervals before data flowed
	rateHold      = 250 * time.Millisecond // after a change, reports still describe the old rate
	rateSlowStart = 1.25                   // growth per tick until the first cut (like TCP's slow start)
	rateGrow      = 1.03                   // growth per tick after it: ~1.3x a second
	rateCut       = 0.85                   // a cut is at least this deep

	excessMin       = 0.02 // loss above a receiver's own baseline below this is noise
	excessSevere    = 0.15 // one interval this far above the baseline is congestion at once
	excessSigmas    = 3    // ... and a rise within this many binomial deviations is noise too
	congestedPart   = 0.5  // at least this share of receivers rising together is congestion
	overflowMin     = 0.01 // a receiver whose own socket dropped more than this share is overloaded
	baselineGain    = 1.0 / 8
	baselineCreep   = 1.0 / 64 // a path that got worse for good becomes the new baseline, slowly
	minSampleShards = 50       // an interval with fewer shards tells nothing
	queueBlockedMax = 0.5      // writes blocked this share of a tick: the sender's own link is full
	queueRatio      = 0.9      // receivers accounting for less than this share of what is written: a queue builds
	queueDrain      = 0.97     // on a queue, the rate drops a little below what arrives, so it drains
)

// rateSample is what one receiver saw of the data in one control
// interval: shards that arrived, that the network lost, and that its own
// socket dropped (it could not read fast enough).
type rateSample struct {
	peer     int
	received uint32
	lost     uint32
	overflow uint32
	// arrivalRate is the shards per second it accounted for (received,
	// lost or dropped) over the last rateWindow, timed by the arrival of
	// its statuses; 0 when unknown.
	arrivalRate float64
}

func (s rateSample) shards() uint32 { return s.received + s.lost + s.overflow }

func (s rateSample) lossShare() float64 {
	return float64(s.lost) / float64(max(s.shards(), 1))
}

func (s rateSample) overflowShare() float64 {
	return float64(s.overflow) / float64(max(s.shards(), 1))
}

// sendSample is what the sender itself saw in the interval: bytes written
// and time spent blocked in writes (its own socket or qdisc was full).
type sendSample struct {
	bytes   int64
	blocked time.Duration
	// rate is the datagrams per second written over the last rateWindow,
	// perDatagram their mean size in bytes; 0 when unknown.
	rate        float64
	perDatagram float64
}

// rateController sets the send rate from receivers' reports. The clock is
// passed in so it is tested without sleeping. Not safe for concurrent use.
type rateController interface {
	// update takes one interval's samples of the receivers still receiving,
	// of a room of room receivers (every one that joined, complete or
	// not), and returns the rate to send at, in bit/s. Called about every
	// rateTick.
	update(now time.Time, sent sendSample, samples []rateSample, room int) float64
	// rate is the current rate in bit/s.
	rate() float64
	// baseline is a receiver's steady (path) loss, 0..1, and whether it has one.
	baseline(peer int) (float64, bool)
}

// fixedRate is --rate R. It still learns baselines: parity uses them.
type fixedRate struct {
	bps   float64
	paths pathLoss
}

func (f *fixedRate) update(now time.Time, _ sendSample, samples []rateSample, _ int) float64 {
	for _, s := range samples {
		if s.shards() >= minSampleShards {
			f.paths.observe(s.peer, s.lossShare(), true)
		}
	}
	return f.bps
}

func (f *fixedRate) rate() float64                     { return f.bps }
func (f *fixedRate) baseline(peer int) (float64, bool) { return f.paths.get(peer) }

// pathLoss is each receiver's baseline: the loss it sees when the rate is
// not the cause, an exponentially weighted mean of its uncongested
// intervals.
type pathLoss map[int]float64

func (p pathLoss) get(peer int) (float64, bool) {
	b, ok := p[peer]
	return b, ok
}

// observe folds one interval's loss into peer's baseline; a congested
// interval moves it only slowly.
func (p pathLoss) observe(peer int, loss float64, calm bool) {
	b, ok := p[peer]
	switch {
	case !ok:
		p[peer] = loss
	case loss < b:
		p[peer] = b + (loss-b)*baselineGain*2 // a path that got better counts at once
	case calm:
		p[peer] = b + (loss-b)*baselineGain
	default:
		p[peer] = b + (loss-b)*baselineCreep
	}
}

// autoRate is the default rate control (SPEC.md §6.7). It keeps, per
// receiver, a baseline of the loss that receiver's path has anyway, and
// looks at loss above it ("excess"):
//   - excess at a majority of receivers together (two intervals in a row,
//     or once when severe) is congestion: the rate drops to what got
//     through, at least by rateCut, down to rateMin;
//   - excess at a minority is their path (FEC and repair serve it): no change;
//   - a receiver whose own socket overflows is overloaded: the rate drops
//     by what it dropped, but a minority never takes it below the floor
//     (rateFloorPart of the highest rate that ran clean);
//   - writes blocked most of an interval mean the sender's own link is
//     full: the rate is set to what was written.
//
// Otherwise the rate grows by rateSlowStart per tick until the first cut
// and by rateGrow after it, up to its ceiling.
type autoRate struct {
	bps      float64
	ceiling  float64
	start    time.Time // first update with data
	last     time.Time // last update that counted
	held     time.Time // no change before this
	clean    float64   // highest rate of an interval with no signal at all
	cut      bool      // a cut happened: grow gently from now on
	pending  bool      // the previous interval was congested (not severe)
	queued   bool      // the previous interval showed a queue building
	arrivals []float64 // scratch
	paths    pathLoss
	excesses []float64 // scratch
}

func newRateController(fixed, ceiling float64) rateController {
	if fixed > 0 {
		return &fixedRate{bps: fixed, paths: pathLoss{}}
	}
	return &autoRate{bps: min(rateStart, ceiling), ceiling: ceiling, paths: pathLoss{}}
}

func (a *autoRate) rate() float64                     { return a.bps }
func (a *autoRate) baseline(peer int) (float64, bool) { return a.paths.get(peer) }

// floor is the lowest rate a minority of receivers can bring about: a
// share of the highest clean rate, or of the start rate before any.
func (a *autoRate) floor() float64 {
	return min(max(rateFloorMin, rateFloorPart*max(a.clean, rateStart)), a.ceiling)
}

func (a *autoRate) update(now time.Time, sent sendSample, samples []rateSample, room int) float64 {
	if now.Sub(a.last) < rateTick {
		return a.bps
	}
	interval := now.Sub(a.last)
	a.last = now
	if a.start.IsZero() {
		a.start = now
		return a.bps
	}
	if now.Sub(a.start) < rateWarmup {
		return a.bps
	}
	// Per receiver: is its loss above its own baseline, and is its socket
	// overflowing?
	a.excesses, a.arrivals = a.excesses[:0], a.arrivals[:0]
	voters, rising, severe, overloaded := 0, 0, 0, 0
	worstOverflow := 0.0
	for _, s := range samples {
		n := s.shards()
		if n < minSampleShards {
			continue
		}
		voters++
		if s.arrivalRate > 0 {
			a.arrivals = append(a.arrivals, s.arrivalRate)
		}
		loss := s.lossShare()
		base, known := a.paths.get(s.peer)
		excess := 0.0
		if known {
			noise := excessSigmas * math.Sqrt(max(base, 1.0/float64(n))*(1-base)/float64(n))
			excess = loss - base
			switch {
			case excess > max(excessSevere, noise):
				severe++
				rising++
				a.excesses = append(a.excesses, excess)
			case excess > max(excessMin, noise):
				rising++
				a.excesses = append(a.excesses, excess)
			}
		}
		a.paths.observe(s.peer, loss, excess <= excessMin)
		if o := s.overflowShare(); o > overflowMin {
			overloaded++
			worstOverflow = max(worstOverflow, o)
		}
	}
	// A queue building on the way (a slow link with a deep buffer) shows
	// as receivers accounting for fewer shards than are written, a second
	// before the buffer overflows into loss.
	arrival, queued := 0.0, false
	if len(a.arrivals) > 0 && sent.rate > 0 && sent.perDatagram > 0 {
		slices.Sort(a.arrivals)
		arrival = a.arrivals[(len(a.arrivals)-1)/2]
		queued = arrival < queueRatio*sent.rate
	}
	if now.Before(a.held) {
		a.queued = false
		return a.bps
	}
	// A majority of the room, not of those still receiving: once the others
	// completed, the laggards left are still a minority and cannot drive
	// the rate down for the room (repair catches them up at the floor).
	need := max(1, int(math.Ceil(congestedPart*float64(max(voters, room)))))
	switch {
	case voters > 0 && (severe >= need || rising >= need && a.pending):
		slices.Sort(a.excesses)
		through := a.bps * (1 - a.excesses[len(a.excesses)/2])
		a.cutTo(now, max(min(a.bps*rateCut, through), rateMin))
		a.pending = false
	case voters > 0 && rising >= need:
		a.pending = true // one noisy interval is not congestion
		return a.bps
	case overloaded >= need:
		a.cutTo(now, max(min(a.bps*rateCut, a.bps*(1-worstOverflow)), rateMin))
	case overloaded > 0:
		a.cutTo(now, max(min(a.bps*rateCut, a.bps*(1-worstOverflow)), min(a.floor(), a.bps)))
	case queued && a.queued: // twice in a row: one late status is not a queue
		lowest := rateMin
		if voters < need { // the laggards left after the others completed: not below the floor
			lowest = min(a.floor(), a.bps)
		}
		a.cutTo(now, max(queueDrain*arrival*sent.perDatagram*8, lowest))
	case interval > 0 && sent.blocked > time.Duration(queueBlockedMax*float64(interval)):
		through := float64(sent.bytes) * 8 / interval.Seconds()
		a.cutTo(now, max(min(a.bps, through), rateMin))
	case voters == 0:
		// No receiver said anything new this tick (statuses come every
		// ~100 ms, later from a busy receiver): growing blind is how a
		// sender overshoots a slow link.
	default:
		a.pending = false
		a.clean = max(a.clean, a.bps)
		grow := rateSlowStart
		if a.cut {
			grow = rateGrow
		}
		a.bps = min(a.bps*grow, a.ceiling)
	}
	a.queued = queued
	return a.bps
}

// cutTo lowers the rate and holds it there until reports describe it.
func (a *autoRate) cutTo(now time.Time, bps float64) {
	if bps < a.bps {
		a.bps, a.cut, a.held = bps, true, now.Add(rateHold)
	}
}
