package push

import (
	"math"
	"math/rand/v2"
	"time"
)

// Feedback timers that scale with the group (SPEC.md §6.6), after NORM
// (RFC 5740) and TFMCC (RFC 4654): the sender counts its receivers and
// says how many in every Announce (protocol.Announce.GroupSize); each
// receiver stretches its periodic status so the whole group sends about
// statusBudget a second, and between periodic statuses speaks only to ask
// for repair, after a random backoff that lets one receiver's NACK (or
// the repair it brings) keep the others quiet.
const (
	defaultStatusEvery = 100 * time.Millisecond // the period of a small group
	// statusBudget is the periodic statuses a second the whole group aims
	// at (the sender verifies each: about 60 µs of ed25519 apiece).
	statusBudget    = 250
	maxStatusPeriod = 5 * time.Second
	// nackBackoffStep × log2(group) is the window T a NACK waits in
	// before it goes (at most nackBackoffMax); a group of one asks at
	// once. The wait is drawn from a truncated exponential (nackDelay),
	// so about one receiver per window answers before the repair it
	// brings reaches the others, whatever the group's size.
	nackBackoffStep = 20 * time.Millisecond
	nackBackoffMax  = 150 * time.Millisecond
	// nackHold is how long after a NACK for a block (ours, or one heard
	// that asks for at least as much) the block is not asked for again:
	// its repair is plausibly on the way. The NACK's backoff window adds
	// to it.
	nackHold = 250 * time.Millisecond
	// manifestNackHold is nackHold for a manifest chunk. Until every
	// receiver holds the manifest the sender sends nothing else and
	// answers a chunk's NACK within its feedback poll (20 ms), so an
	// answer lost is asked for again sooner. Each receiver asks for every
	// chunk when it registers, before the first copy goes out: with
	// nackHold, one chunk lost from that copy waited out the hold, and a
	// room with one receiver at 10 % loss idled 260-290 ms in the
	// manifest phase of most pushes.
	manifestNackHold = 50 * time.Millisecond
	// nackHoldMax and nackHoldPeriods: while shards keep arriving (the
	// sender is working through its repair queue) the hold lasts up to
	// max(nackHoldMax, nackHoldPeriods status periods), so a large
	// group's re-asks stay within its status budget too.
	nackHoldMax     = time.Second
	nackHoldPeriods = 2
	// repairQuiet: a block whose shards arrived this recently (someone's
	// repair is flowing) is not asked for yet.
	repairQuiet = 100 * time.Millisecond
	// repairSettle: our NACK's repair arrived (shards above the index we
	// held when asking) and none came for this long: the run is over and
	// the block still lacks shards, so it is asked for again at once.
	// (A block's repair goes as one run of datagrams, at least one per
	// 1.1 ms at the 10 Mbit/s floor.)
	repairSettle = 20 * time.Millisecond
	// repairLostQuiet: after the first pass, no data came for this long,
	// and the sender served a status of ours sent with or after our last
	// NACK of a block that got nothing: that block's repair was lost
	// whole, and it is asked for again. Past the sender's repairGuard
	// (60 ms), or the re-ask would count the lost shards as in flight.
	repairLostQuiet = 65 * time.Millisecond
	// nackCheckEvery is how often a receiver looks for a new need between
	// periodic statuses.
	nackCheckEvery = 25 * time.Millisecond
	// joinSpreadMax bounds the random delay of a large group's first
	// status, so a thousand receivers granted at once do not answer in
	// one burst.
	joinSpreadMax = 500 * time.Millisecond
	// statusStartupFor is how long after the data phase begins a
	// receiver reports at statusPeriodStartup.
	statusStartupFor = 500 * time.Millisecond
	// completeLingerMin and completePeriods: after completing, a receiver
	// repeats "complete" each period until End, for at least this long
	// and at least this many periods.
	completeLingerMin = 3 * time.Second
	completePeriods   = 3
	// silentAfterMin and silentPeriods: the sender drops a receiver not
	// heard for this long and at least this many of its status periods.
	silentAfterMin = 5 * time.Second
	silentPeriods  = 4
)

// statusPeriod is a receiver's periodic status interval in a group of
// the given size: base (100 ms by default) while the group's statuses
// stay under statusBudget a second, then group/statusBudget seconds, at
// most maxStatusPeriod.
func statusPeriod(base time.Duration, group int) time.Duration {
	return max(base, min(time.Duration(group)*time.Second/statusBudget, maxStatusPeriod))
}

// jittered is d scaled by a uniform factor in [0.75, 1.25), so statuses
// of receivers that started together drift apart.
func jittered(d time.Duration) time.Duration {
	return d*3/4 + time.Duration(rand.Int64N(int64(d)/2+1))
}

// statusSpread is the wait for the first periodic status of the data
// phase: uniform over a whole period, so a group that got the manifest
// together, and so restarted its periods together, reports evenly
// (statusBudget a second) from the first data on. Drawn in [0.75, 1.25)
// of the period like the rest, a group of 1000 sent no periodic status
// for the first 3 s of data: the sender's rate and parity had nothing to
// go on for a whole first pass.
func statusSpread(base time.Duration, group int) time.Duration {
	return randomIn(statusPeriodStartup(base, group))
}

// statusPeriodStartup is the period for the first statusStartupFor of
// the data phase: half the base while the budget allows, so the sender's
// startup, which looks every startupTick (rate.go), hears from most
// receivers each time it doubles the rate.
func statusPeriodStartup(base time.Duration, group int) time.Duration {
	return max(base/2, min(time.Duration(group)*time.Second/statusBudget, maxStatusPeriod))
}

// nackHoldLimit is how long a NACK is held at most while repair flows.
func nackHoldLimit(base time.Duration, group int) time.Duration {
	return max(nackHoldMax, nackHoldPeriods*statusPeriod(base, group))
}

// nackBackoff is the window a receiver's NACK waits in (uniformly).
func nackBackoff(group int) time.Duration {
	if group <= 1 {
		return 0
	}
	return min(nackBackoffMax, time.Duration(math.Log2(float64(group))*float64(nackBackoffStep)))
}

// nackDelay draws a NACK's wait in [0, T) from the truncated exponential
// of NORM (RFC 5740 §5.5.1, after Nonnenmacher and Biersack): with
// λ = ln(group) + 1 and x uniform in [0, 1), T/λ · ln(x·(e^λ − 1) + 1).
// Of a group all needing the same repair, about one draws a wait in the
// first part of the window; the rest are still waiting when the repair
// (or, where peers may influence each other, that NACK) arrives.
func nackDelay(group int) time.Duration {
	t := nackBackoff(group)
	if t <= 0 {
		return 0
	}
	lambda := math.Log(float64(group)) + 1
	x := rand.Float64()
	return time.Duration(float64(t) / lambda * math.Log(x*(math.Exp(lambda)-1)+1))
}

// randomIn is uniform in [0, d); 0 when d is 0.
func randomIn(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(d)))
}

// joinSpread is the window a receiver's first status goes in: none
// while the group is small enough for the base period.
func joinSpread(base time.Duration, group int) time.Duration {
	if p := statusPeriod(base, group); p > base {
		return min(p, joinSpreadMax)
	}
	return 0
}

// completeLinger is how long a complete receiver keeps repeating so.
func completeLinger(base time.Duration, group int) time.Duration {
	return max(completeLingerMin, completePeriods*statusPeriod(base, group))
}

// silentAfter is how long the sender waits for a receiver of a group of
// this size before it counts it gone. Receivers may run a longer base
// period than the default; the sender cannot know, so it assumes the
// default (SPEC.md §6.7).
func silentAfter(group int) time.Duration {
	return max(silentAfterMin, silentPeriods*statusPeriod(defaultStatusEvery, group))
}
