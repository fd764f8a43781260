package push

import (
	"math"
	"slices"
	"time"
)

// Rate control constants (SPEC.md §6.7). One block, so the algorithm's
// knobs are read together.
const (
	rateStart       = 100e6 // bit/s before the first report: any wired LAN carries it
	rateMin         = 1e6   // bit/s; correlated congestion never cuts below this
	rateFloorMin    = 10e6  // bit/s; the floor is never below this
	rateFloorPart   = 0.5   // floor: this share of the highest rate that ran clean
	rateTick        = 100 * time.Millisecond
	startupTick     = 50 * time.Millisecond  // startup looks twice as often: a doubling a tick is what reaching a fast link costs
	rateWarmup      = 100 * time.Millisecond // first reports describe intervals before data flowed
	rateHold        = 250 * time.Millisecond // after a change, reports still describe the old rate
	rateStartup     = 2.0                    // growth per tick until the pipe shows full (like BBR's startup)
	rateReturn      = 1.25                   // after a cut: growth per tick back toward the rate known to get through
	rateReturnPart  = 1.0                    // ... up to this share of it; probing goes on from there
	rateProbe       = 0.03                   // probing: growth per tick is 1 + this × clean ticks in a row (at most rateReturn)
	rateProbeMax    = 1.15                   // ... but never above this multiple of what the receivers took in lately
	rateProbeLinear = 0.02                   // soon after a cut for a queue: the rate known to get through × (1 + this × clean ticks)
	rateCut         = 0.85                   // a cut is at least this deep
	keptUp          = 0.9                    // receivers taking in this share of what was written show no queue
	startupKeepUp   = 0.8                    // startup doubles while receivers take in this share of the rate a rateWindow ago

	excessMin       = 0.02 // loss above a receiver's own baseline below this is noise
	excessSevere    = 0.15 // one interval this far above the baseline is congestion at once
	excessSigmas    = 3    // ... and a rise within this many binomial deviations is noise too
	lossBurst       = 32   // datagrams one loss event may take (batchLen: a GSO train, a GRO buffer)
	congestedPart   = 0.5  // at least this share of receivers rising together is congestion
	overflowMin     = 0.01 // a receiver whose own socket dropped more than this share is overloaded
	baselineGain    = 1.0 / 8
	baselineCreep   = 1.0 / 64 // a path that got worse for good becomes the new baseline, slowly
	minSampleShards = 50       // an interval with fewer shards tells nothing
	queueBlockedMax = 0.5      // writes blocked this share of a tick: the sender's own link is full
	queueRatio      = 0.9      // receivers accounting for less than this share of what is written: a queue builds
	queueDrain      = 0.97     // on a queue, the rate drops a little below what arrives, so it drains
)

// reportsPerTick is how many receivers can report within a tick in
// a large group: periodic statuses are spread to statusBudget a second
// (feedback_timers.go). Startup takes a majority of the room, or of this
// many, as informed: of 1000 receivers only about 25 speak in 100 ms, and
// waiting for 500 kept a push at its start rate for its whole first pass.
func reportsPerTick(tick time.Duration) int { return int(statusBudget * tick / time.Second) }

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
	// perDatagram the bytes written (every kind) per shard datagram;
	// 0 when unknown.
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
	// tick is how often update wants the samples now.
	tick() time.Duration
	// baseline is a receiver's steady (path) loss, 0..1, and whether it has one.
	baseline(peer int) (float64, bool)
	// why names the rule behind the last change, for the debug log.
	why() string
	// observeQueue takes, at each status, the datagrams written so far
	// and those the receiver counted (received or lost); true means its
	// queue is deep enough to call update before the tick ends.
	observeQueue(peer int, now time.Time, written, counted uint64) bool
}

// fixedRate is --rate R. It still learns baselines: parity uses them.
type fixedRate struct {
	bps   float64
	paths pathLoss
}

func (f *fixedRate) update(now time.Time, _ sendSample, samples []rateSample, _ int) float64 {
	for _, s := range samples {
		if n := s.shards(); n >= minSampleShards {
			base, _ := f.paths.get(s.peer)
			f.paths.observe(s.peer, s.lossShare(), lossNoise(base, n))
		}
	}
	return f.bps
}

func (f *fixedRate) rate() float64                                    { return f.bps }
func (f *fixedRate) tick() time.Duration                              { return rateTick }
func (f *fixedRate) why() string                                      { return "fixed" }
func (f *fixedRate) observeQueue(int, time.Time, uint64, uint64) bool { return false }
func (f *fixedRate) baseline(peer int) (float64, bool)                { return f.paths.get(peer) }

// pathLoss is each receiver's baseline: the loss it sees when the rate is
// not the cause, an exponentially weighted mean of its uncongested
// intervals.
type pathLoss map[int]float64

func (p pathLoss) get(peer int) (float64, bool) {
	b, ok := p[peer]
	return b, ok
}

// observe folds one interval's loss into peer's baseline. Within band of
// it (the interval's binomial noise) the mean moves both ways alike, so
// the baseline is the path's mean loss: weighing drops twice as much as
// rises read a 10 % path as 5-7 %, and parity and repair padding came out
// short for it. Below the band the path got better and counts at once;
// above it the interval was congested and moves the baseline only slowly.
func (p pathLoss) observe(peer int, loss, band float64) {
	b, ok := p[peer]
	switch {
	case !ok:
		p[peer] = loss
	case loss < b-band:
		p[peer] = b + (loss-b)*baselineGain*2
	case loss <= b+band:
		p[peer] = b + (loss-b)*baselineGain
	default:
		p[peer] = b + (loss-b)*baselineCreep
	}
}

// lossNoise is how far one interval of n shards may read from a path's
// baseline loss by chance: excessSigmas binomial deviations, at least
// excessMin. Losses come in bursts of up to a batch (a lost GSO train, a
// dropped GRO buffer), so an interval holds n/lossBurst independent
// chances, not n.
func lossNoise(base float64, n uint32) float64 {
	chances := max(1, float64(n)/lossBurst)
	return max(excessMin, excessSigmas*math.Sqrt(max(base, 1/chances)*(1-base)/chances))
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
//   - a queue between the sender and the median receiver (queueMeter)
//     means a bottleneck's buffer is filling: the rate drops below what
//     arrives until it drains;
//   - writes blocked most of an interval mean the sender's own link is
//     full: the rate is set to what was written.
//
// Otherwise the rate doubles per tick until the first sign of a full
// pipe (startup); after it, it returns quickly to the last rate known to
// get through (delivered) and probes above it, faster the longer no
// signal comes.
type autoRate struct {
	bps         float64
	ceiling     float64
	start       time.Time    // first update with data
	last        time.Time    // last update that counted
	held        time.Time    // no change before this
	clean       float64      // highest rate of an interval with no signal at all
	delivered   float64      // bit/s the median receiver took in, as of the last signal or clean tick
	probes      int          // clean ticks in a row at or above delivered
	cut         bool         // startup is over: return and probe from now on
	pending     bool         // the previous interval was congested (not severe)
	queued      bool         // the previous interval showed arrivals behind writes
	short       bool         // in startup, the previous tick's receivers took in too little
	urgent      bool         // a status showed a queue: act before the tick ends
	perDgram    float64      // mean datagram size written, bytes (last known)
	arrivals    []float64    // scratch
	took        windowMax    // bit/s the median receiver took in, recently
	written     float64      // bit/s written over the last rateWindow (0 when unknown)
	history     [8]ratePoint // the rate at the last updates
	updates     int
	paths       pathLoss
	queue       queueMeter
	excesses    []float64     // scratch
	reason      string        // the rule behind the last change (why)
	depth       time.Duration // the queue's depth at the last update, -1 when unknown (why)
	queueCut    time.Time     // the last cut for a queue's depth (rate_grow.go)
	cutDepth    time.Duration // the depth the first such cut was for, until judgeQueueCut looked
	queueJudged bool          // judgeQueueCut looked
	raised      time.Time     // the last time grow raised the rate
}

func newRateController(fixed, ceiling float64) rateController {
	if fixed > 0 {
		return &fixedRate{bps: fixed, paths: pathLoss{}}
	}
	return &autoRate{bps: min(rateStart, ceiling), ceiling: ceiling, paths: pathLoss{}, depth: -1}
}

func (a *autoRate) rate() float64 { return a.bps }

// tick is startupTick in startup, when receivers report as often
// (feedback_timers.go statusPeriodStartup), then rateTick.
func (a *autoRate) tick() time.Duration {
	if a.cut {
		return rateTick
	}
	return startupTick
}

// why is the rule behind the last change, with the queue's depth then
// when known. Formatted only when the debug log asks.
func (a *autoRate) why() string {
	if a.depth < 0 {
		return a.reason
	}
	return a.reason + " depth " + a.depth.Round(time.Millisecond).String()
}
func (a *autoRate) baseline(peer int) (float64, bool) { return a.paths.get(peer) }

// floor is the lowest rate a minority of receivers can bring about: a
// share of the highest clean rate, or of the start rate before any.
func (a *autoRate) floor() float64 {
	return min(max(rateFloorMin, rateFloorPart*max(a.clean, rateStart)), a.ceiling)
}

func (a *autoRate) update(now time.Time, sent sendSample, samples []rateSample, room int) float64 {
	if now.Sub(a.last) < a.tick() && !a.urgent {
		return a.bps
	}
	// A status that showed one receiver's queue deep brings the update
	// forward; such an early look may cut, never grow (growing on them,
	// startup went 500 -> 976 Mbit/s in 70 ms with no report describing
	// any of it).
	early := a.urgent && now.Sub(a.last) < a.tick()
	a.urgent = false
	a.history[a.updates%len(a.history)] = ratePoint{now, a.bps}
	a.updates++
	interval := now.Sub(a.last)
	a.last = now
	if sent.perDatagram > 0 {
		a.perDgram = sent.perDatagram
	}
	a.written = sent.rate * a.perDgram * 8
	if a.start.IsZero() {
		a.start = now
		return a.bps
	}
	if now.Sub(a.start) < rateWarmup {
		return a.bps
	}
	// Per receiver: is its loss above its own baseline, is its socket
	// overflowing, and how much did it take in?
	a.excesses, a.arrivals = a.excesses[:0], a.arrivals[:0]
	voters, rising, severe, overloaded := 0, 0, 0, 0
	worstOverflow := 0.0
	for _, s := range samples {
		n := s.shards()
		if n < minSampleShards {
			continue
		}
		voters++
		loss := s.lossShare()
		base, known := a.paths.get(s.peer)
		if s.arrivalRate > 0 {
			// What reached it and was read, the path's own loss put back:
			// that loss is after the bottleneck, so the bottleneck carried it.
			// Statuses that queued behind a busy receiver's scheduler
			// arrive bunched and read as more than was written: no
			// receiver takes in more than that.
			took := float64(s.received) / float64(n) / (1 - min(base, 0.5))
			arrival := s.arrivalRate
			if sent.rate > 0 {
				arrival = min(arrival, sent.rate)
			}
			a.arrivals = append(a.arrivals, arrival*min(took, 1))
		}
		excess, noise := 0.0, lossNoise(base, n)
		if known {
			excess = loss - base
			switch {
			case excess > max(excessSevere, noise):
				severe++
				rising++
				a.excesses = append(a.excesses, excess)
			case excess > noise:
				rising++
				a.excesses = append(a.excesses, excess)
			}
		}
		a.paths.observe(s.peer, loss, noise)
		if o := s.overflowShare(); o > overflowMin {
			overloaded++
			worstOverflow = max(worstOverflow, o)
		}
	}
	// What the median receiver took in, in bit/s (0 when unknown): the
	// most over the last 0.5-1 s (tookWindow: rateWindow lags a rate that
	// just rose), never more than is sent now.
	delivered := 0.0
	if len(a.arrivals) > 0 && a.perDgram > 0 {
		slices.Sort(a.arrivals)
		a.took.add(now, a.arrivals[(len(a.arrivals)-1)/2]*a.perDgram*8)
		delivered = min(a.took.max(), a.bps)
	}
	// A queue on the way: the median receiver's depth (queueMeter), or,
	// without one, receivers accounting for fewer shards than are written
	// over rateWindow, twice in a row.
	depthDelay, depthKnown := a.queue.delay(samples, now, a.drainRate())
	queued := !depthKnown && delivered > 0 && sent.rate > 0 && delivered < queueRatio*sent.rate*a.perDgram*8
	deep := depthKnown && depthDelay > queueDelayMax
	a.depth = -1
	if depthKnown {
		a.depth = depthDelay
	}
	if now.Before(a.held) {
		a.queued = false
		return a.bps
	}
	a.judgeQueueCut(depthDelay, depthKnown)
	// A majority of the room, not of those still receiving: once the others
	// completed, the laggards left are still a minority and cannot drive
	// the rate down for the room (repair catches them up at the floor).
	need := max(1, int(math.Ceil(congestedPart*float64(max(voters, room)))))
	lowest := rateMin
	if voters < need { // the laggards left after the others completed: not below the floor
		lowest = min(a.floor(), a.bps)
	}
	switch {
	case voters > 0 && (severe >= need || rising >= need && a.pending):
		slices.Sort(a.excesses)
		through := a.bps * (1 - a.excesses[len(a.excesses)/2])
		if delivered > 0 { // after an overshoot: what arrived, not a blind cut
			through = min(through, delivered)
		}
		a.reason = "congestion"
		a.cutTo(now, max(min(a.bps*rateCut, through), rateMin), delivered)
		a.pending = false
	case voters > 0 && rising >= need:
		a.pending = true // one noisy interval is not congestion
		return a.bps
	case overloaded >= need:
		a.reason = "overloaded majority"
		a.cutTo(now, max(min(a.bps*rateCut, a.bps*(1-worstOverflow)), rateMin), delivered)
	case overloaded > 0:
		a.reason = "overloaded minority"
		a.cutTo(now, max(min(a.bps*rateCut, a.bps*(1-worstOverflow)), min(a.floor(), a.bps)), delivered)
	case deep && delivered > 0:
		// Drain what is queued over about queueDrainTime. A depth alone
		// never takes the rate below the floor: a receiver slow to start,
		// or shards it did not count, can look like a queue; a real
		// bottleneck below the floor overflows into loss (rule 1).
		a.reason = "queue"
		drain := max(queueDrainMax, 1-depthDelay.Seconds()/queueDrainTime.Seconds())
		if a.bps > rateStart && now.Sub(a.raised) < rateWindow {
			// An overshoot of the last step up: the rate before it ran a
			// tick without a queue (or it would not have stepped), while
			// the windowed rates still lag the step, and in startup span
			// time before the data, and read low (a 100 Mbit/s link was
			// cut to 64 Mbit/s, ten busy receivers at 1 Gbit/s to 95, three
			// at 5 % to 164, each a second or more below what they took).
			delivered = max(delivered, min(a.stepBelow(), a.ceiling))
		}
		a.cutTo(now, max(drain*delivered, min(a.floor(), a.bps)), delivered)
		if a.queueCut.IsZero() && !a.queueJudged {
			a.cutDepth = depthDelay // the first: judgeQueueCut looks whether it was one
		}
		a.queueCut = now
	case queued && a.queued: // twice in a row: one late status is not a queue
		a.reason = "arrivals behind writes"
		a.cutTo(now, max(queueDrain*delivered, lowest), delivered)
	case interval >= rateTick/2 && sent.blocked > time.Duration(queueBlockedMax*float64(interval)):
		// (Not on a tick a status brought forward: one blocked write in
		// a few milliseconds is not a full link.)
		a.reason = "writes blocked"
		through := float64(sent.bytes) * 8 / interval.Seconds()
		a.cutTo(now, max(min(a.bps, through), rateMin), through)
	case voters == 0:
		// No receiver said anything new this tick (statuses come every
		// ~100 ms, later from a busy receiver): growing blind is how a
		// sender overshoots a slow link.
	default:
		a.pending = false
		// Clean is what got through, not what was sent: a startup tick
		// sent at twice a 100 Mbit/s link showed no signal yet, and as
		// "clean" it set the floor above the link, where a queue could
		// not cut the rate (it sat at 125 Mbit/s with 100 ms of queue).
		if early {
			return a.bps
		}
		through := a.bps
		if delivered > 0 {
			through = min(through, delivered)
		}
		a.clean = max(a.clean, through)
		a.reason = "clean"
		a.grow(now, depthDelay, depthKnown, 2*voters > min(len(samples), reportsPerTick(a.tick())))
	}
	a.queued = queued
	return a.bps
}
