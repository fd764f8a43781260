package push

import "time"

// grow raises the rate after a tick with no signal. In startup it
// doubles while every receiver reports, until a queue starts to show;
// after it, it returns to the last rate known to get through within a
// tick or two (like CUBIC's return to W_max), then probes above it:
// by rateReturn a tick while no queue shows at all (the rate is well
// below the bottleneck), else gently, faster the longer the ticks stay
// clean, and never far above what the receivers take in.
func (a *autoRate) grow(now time.Time, depth time.Duration, depthKnown, informed bool) {
	before := a.bps
	defer func() {
		if a.bps > before {
			a.raised = now
		}
	}()
	// What the receivers took in, even above the rate now: after an
	// overshoot the statuses that describe it come after the cut, and
	// they are the rate to return to. (Capped at the rate sent, a startup
	// cut from 800 to 369 Mbit/s learned only what it sent itself and
	// crawled at the probe's cap while busy receivers took 600.)
	a.delivered = max(a.delivered, min(a.took.max(), a.ceiling))
	switch {
	case !a.cut && depthKnown && depth > queueDelayMax/2:
		a.cut, a.probes = true, 0 // the pipe is about full: probe from here
	case !a.cut:
		// Doubling, but only while the receivers take in most of what
		// was sent a rateWindow ago (what they can have shown by now):
		// when they fall behind (busy, or a slow bottleneck with a deep
		// buffer that hides it), startup ends and probing goes on from
		// here; with most receivers late with their status this tick, only
		// by rateReturn (doubling blind overshoots). A majority is enough:
		// the bottleneck a doubling can overrun is shared, so it shows in
		// their reports, and with five receivers on two busy cores one of
		// them missed almost every tick (a 200 Mbit/s start took 0.6 s
		// to reach the link at x1.25).
		// (Against what was written when that is less: a sender short
		// of CPU writes less than its rate, not the receivers' fault.)
		// Twice in a row, and only once a whole rateWindow of data lies
		// behind: the first statuses' rates span time before the data
		// flowed and read low (meanwhile the queue's depth ends startup).
		if took := a.took.max(); took > 0 && now.Sub(a.start) >= rateWindow && took < startupKeepUp*a.writtenBefore(now) {
			if a.short {
				a.cut, a.probes = true, 0
				break
			}
			a.short = true
			return
		}
		a.short = false
		step := rateStartup
		if !informed {
			step = rateReturn
		}
		a.bps = min(a.bps*step, a.ceiling)
		return
	}
	if back := rateReturnPart * a.delivered; a.bps < back {
		a.bps = min(a.bps*rateReturn, back, a.ceiling)
		return
	}
	a.probes++
	if !a.queueCut.IsZero() && now.Sub(a.queueCut) < queueCutMemory {
		// Soon after a cut for a queue the bottleneck is known: probe
		// linearly above the rate that got through, not compounding, so
		// the queue builds slowly and the next cut is shallow. (The depth
		// is measured above its running minimum, which a queue that never
		// drained has raised: it reads empty while the bottleneck is full.
		// Compounding probes overran a 100 Mbit/s link by 1.5x every 0.7 s,
		// each time cut below it, the link idle while its queue drained.)
		a.bps = min(max(a.bps, a.delivered*min(1+rateProbeLinear*float64(a.probes), rateProbeMax)), a.ceiling)
		return
	}
	step, above := min(1+rateProbe*float64(a.probes), rateProbeMax), rateProbeMax
	if depthKnown && depth < queueDelayMax/4 {
		step, above = rateReturn, rateReturn // no queue at all: well below the bottleneck
	}
	next := a.bps * step
	if took := a.took.max(); took > 0 {
		// Far above what arrives is a queue building, not a probe.
		next = min(next, max(a.bps, above*took))
		// But receivers that take in all that was written show no queue:
		// a sender short of CPU writes less than its rate, and the gentle
		// probe goes on.
		if a.written > 0 && took >= keptUp*a.written {
			next = max(next, a.bps*min(1+rateProbe*float64(a.probes), rateProbeMax))
		}
	}
	a.bps = min(next, a.ceiling)
}

// ratePoint is the rate in force at a moment.
type ratePoint struct {
	at  time.Time
	bps float64
}

// stepBelow is the rate in force before the current one took over (in
// startup, the base of the last step), or the start rate when none.
func (a *autoRate) stepBelow() float64 {
	for k := 1; k <= min(a.updates, len(a.history)); k++ {
		if p := a.history[(a.updates-k)%len(a.history)]; p.bps < a.bps {
			return p.bps
		}
	}
	return rateStart
}

// writtenBefore is what receivers can have taken in by now: the rate in
// force a rateWindow before, or what was written over it when less.
func (a *autoRate) writtenBefore(now time.Time) float64 {
	if a.written > 0 {
		return min(a.sentBefore(now), a.written)
	}
	return a.sentBefore(now)
}

// sentBefore is the rate in force rateWindow before now (the oldest
// known when the history is shorter).
func (a *autoRate) sentBefore(now time.Time) float64 {
	bps := a.bps
	for k := 1; k <= min(a.updates, len(a.history)); k++ {
		p := a.history[(a.updates-k)%len(a.history)]
		bps = p.bps
		if now.Sub(p.at) >= rateWindow {
			break
		}
	}
	return bps
}

// cutTo lowers the rate and holds it there until reports describe it;
// delivered (what arrived, 0 when unknown) becomes the rate to return to.
func (a *autoRate) cutTo(now time.Time, bps, delivered float64) {
	if bps < a.bps {
		if delivered <= 0 {
			delivered = bps
		}
		a.delivered = max(bps, min(delivered, a.bps))
		a.bps, a.cut, a.held, a.probes = bps, true, now.Add(rateHold), 0
	}
}
