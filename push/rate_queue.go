package push

import (
	"slices"
	"time"
)

// Queue depth (SPEC.md §6.7 rule 5): how many datagrams sit between the
// sender's writes and a receiver's reads, measured at each status as
// written − counted (received or lost) by that receiver, above its own
// running minimum. The minimum takes out what the receiver never counts
// (shards before it had the manifest, losses at the tail of a block), so
// what is left is a queue: a bottleneck's buffer filling, or a receiver
// that reads slower than the datagrams come. Like a round-trip time it
// rises a status after the queue does, long before the buffer overflows
// into loss, and it does not lag as rates measured over a window do.
const (
	queueMinWindow = time.Second            // the minimum is over the last one to two of these
	tookWindow     = 500 * time.Millisecond // what receivers took in: the most over the last one to two of these
	queueFresh     = 250 * time.Millisecond // an older depth says nothing of now
	queueDelayMax  = 35 * time.Millisecond  // a median queue this deep (in time at the rate taken in) is a queue
	queueDrainTime = time.Second            // a queue found drains over about this long: the link stays busy meanwhile
	queueDrainMax  = 0.85                   // ... but the rate drops at most this far below what arrives
	queueCutMemory = 2 * queueMinWindow     // after a cut for depth, probing stays gentle this long (rate_grow.go)
	queueGoneShare = 0.25                   // ... unless after the hold less than this share of that depth is left
)

// queueTrack is one receiver's depth: the latest sample and a windowed
// minimum kept in two buckets of queueMinWindow.
type queueTrack struct {
	latest          int64
	at              time.Time
	minCur, minPrev int64
	bucket          time.Time // start of the current bucket
}

// queueMeter holds every receiver's queueTrack. Bounded by the receiver
// table (maxReceivers), which gives the peer ids.
type queueMeter struct {
	peers  map[int]*queueTrack
	delays []float64 // scratch
}

// observe records that peer had counted counted datagrams when the sender
// had written written.
func (q *queueMeter) observe(peer int, now time.Time, written, counted uint64) {
	if q.peers == nil {
		q.peers = map[int]*queueTrack{}
	}
	inflight := int64(written) - int64(counted)
	t, ok := q.peers[peer]
	if !ok {
		q.peers[peer] = &queueTrack{latest: inflight, at: now, minCur: inflight, minPrev: inflight, bucket: now}
		return
	}
	if now.Sub(t.bucket) >= queueMinWindow {
		t.minPrev, t.minCur, t.bucket = t.minCur, inflight, now
	}
	t.latest, t.at, t.minCur = inflight, now, min(t.minCur, inflight)
}

// depth is peer's queue in datagrams, and whether it is fresh.
func (q *queueMeter) depth(peer int, now time.Time) (int64, bool) {
	t, ok := q.peers[peer]
	if !ok || now.Sub(t.at) > queueFresh {
		return 0, false
	}
	return t.latest - min(t.minCur, t.minPrev), true
}

// delay is the lower median of the fresh receivers' queues among peers,
// in time at perSecond datagrams a second, and whether any was fresh. The
// lower median: a minority of slow readers does not make it a queue.
func (q *queueMeter) delay(peers []rateSample, now time.Time, perSecond float64) (time.Duration, bool) {
	if perSecond <= 0 {
		return 0, false
	}
	q.delays = q.delays[:0]
	for _, s := range peers {
		if d, ok := q.depth(s.peer, now); ok {
			q.delays = append(q.delays, float64(d)/perSecond)
		}
	}
	if len(q.delays) == 0 {
		return 0, false
	}
	slices.Sort(q.delays)
	return time.Duration(q.delays[(len(q.delays)-1)/2] * float64(time.Second)), true
}

// windowMax is the largest value added over the last one to two
// tookWindow (two buckets), like BBR's bandwidth filter.
type windowMax struct {
	cur, prev float64
	bucket    time.Time
}

func (w *windowMax) add(now time.Time, v float64) {
	if now.Sub(w.bucket) >= tookWindow {
		w.prev, w.cur, w.bucket = w.cur, 0, now
	}
	w.cur = max(w.cur, v)
}

func (w *windowMax) max() float64 { return max(w.cur, w.prev) }

// observeQueue records a receiver's count against what was written when
// its status came; it says whether that receiver's queue is already deep
// enough that the rate should be looked at before the tick ends.
func (a *autoRate) observeQueue(peer int, now time.Time, written, counted uint64) bool {
	if counted == 0 {
		return false // it has not seen data yet: nothing to measure
	}
	a.queue.observe(peer, now, written, counted)
	d, ok := a.queue.depth(peer, now)
	if !ok || a.perDgram <= 0 || now.Before(a.held) || a.start.IsZero() || now.Sub(a.start) < rateWarmup {
		return false
	}
	if float64(d) < a.drainRate()*queueDelayMax.Seconds() {
		return false
	}
	a.urgent = true
	return true
}

// drainRate is how fast a queue drains, in datagrams a second: at what
// the receivers took in lately, or the rate sent when that is unknown.
func (a *autoRate) drainRate() float64 {
	bps := a.bps
	if took := a.took.max(); took > 0 {
		bps = min(bps, took)
	}
	return bps / 8 / max(a.perDgram, 1)
}

// judgeQueueCut looks, at the first update with a fresh depth after the
// hold that followed the push's first cut for the queue's depth, whether
// that queue is still there. A bottleneck's queue drains over about
// queueDrainTime (the cut goes at most 15 % below what arrives), so
// after the 250 ms hold about two thirds of it are left. Receivers that
// stalled for a moment (five receivers and the sender starting on two
// cores) catch up at once, and their queue is gone: that cut found no
// bottleneck, and the linear probing kept for one (rate_grow.go) is not
// used. (A push cut from 200 to 96 Mbit/s that way crawled up a few
// percent a tick for 1.5 s, in a room that took in 600.) Only the first
// cut: later ones may find the depth's running minimum raised by a queue
// that never drained, which reads as gone while the bottleneck is full
// (a link narrowed from 100 to 30 Mbit/s was then probed at x1.25 a tick
// and sat at 2.5x it).
func (a *autoRate) judgeQueueCut(depth time.Duration, known bool) {
	if a.cutDepth <= 0 || !known {
		return
	}
	if float64(depth) < queueGoneShare*float64(a.cutDepth) {
		a.queueCut = time.Time{}
	}
	a.cutDepth, a.queueJudged = 0, true
}
