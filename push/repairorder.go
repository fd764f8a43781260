package push

import (
	"slices"
	"time"
)

// The sender sends repair lowest block first (repairQueue.pop). So when
// repair arrived for a block above b that we asked for no earlier than b,
// b's repair went out before it: if nothing of b came, that repair was
// lost whole, and b is asked for again without waiting for the data to go
// quiet (SPEC.md §6.6, *overtaken*). In the namespace lab one lost
// datagram train takes a shard of up to 32 blocks at once, and during the
// first pass, when the data never goes quiet, such blocks waited out the
// whole hold (up to 1 s): the last 0.3-0.8 s of a push to a 10 %
// receiver.

// markServedAbove fills servedAbove for the blocks in [lo, hi): for each,
// the latest time we asked for a block above it whose repair arrived at
// least repairLostQuiet ago (past the sender's repairGuard, so a re-ask
// is not taken for shards still in flight); zero when none (mu held).
func (s *rsession) markServedAbove(lo, hi int, now time.Time) {
	n := max(hi-lo, 0)
	s.servedFrom = lo
	s.servedAbove = slices.Grow(s.servedAbove[:0], n)[:n]
	clear(s.servedAbove)
	for b, a := range s.asked {
		i := int(b) - lo
		if b&manifestNack != 0 || i < 0 || i >= n || a.repairAt.IsZero() || now.Sub(a.repairAt) < repairLostQuiet {
			continue
		}
		if a.at.After(s.servedAbove[i]) {
			s.servedAbove[i] = a.at
		}
	}
	var latest time.Time // over the blocks above i
	for i := n - 1; i >= 0; i-- {
		here := s.servedAbove[i]
		s.servedAbove[i] = latest
		if here.After(latest) {
			latest = here
		}
	}
}

// nackScanLimit is the end of the blocks a NACK scan looks at, from
// s.lowest, with servedAbove marked for them, which dueNack needs (mu
// held).
func (s *rsession) nackScanLimit(now time.Time) int {
	limit := s.nackLimit()
	s.markServedAbove(s.lowest, limit, now)
	return limit
}

// overtakenLocked reports whether block b's repair was overtaken: a block
// above it, asked for no earlier, got its repair (markServedAbove), and
// nothing of b arrived since we asked (mu held).
func (s *rsession) overtakenLocked(b uint32, m repairMark) bool {
	a, ok := s.asked[b]
	i := int(b) - s.servedFrom
	if !ok || i < 0 || i >= len(s.servedAbove) {
		return false
	}
	above := s.servedAbove[i]
	return !above.IsZero() && !above.Before(a.at) && !m.moved.After(a.at)
}

// noteRepairArrived records that repair our NACK of b asked for arrived
// (a shard above the index it carried, or b completed) (mu held).
func (s *rsession) noteRepairArrived(b uint32, now time.Time) {
	a, ok := s.asked[b]
	if !ok {
		return
	}
	if a.repairAt.IsZero() {
		a.repairAt = now
		s.asked[b] = a
	}
	s.noteServed(a.at)
}
