package push

import (
	"context"
	"slices"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
)

// How much of the first pass a receiver on unicast gets while it runs
// (SPEC.md §6.11). Its copies share the sender's link and CPU with the
// multicast stream, so copying every batch makes the whole room as slow
// as two streams. During the first pass it gets whole windows (hash
// lists and shards) only up to copyShareFirstPass of the group's bytes;
// the windows it did not get are sent again after the first pass (the
// "unicast pass"), when the multicast receivers are done: then, with
// every receiver left on unicast, the group write is skipped and the
// link is theirs. Skipping whole windows, not batches, means it holds no
// partial block of them meanwhile and needs no NACK round for them.
const (
	copyShareFirstPass = 0.1
	copyBurstWindows   = 2 // tokens kept at most: this many windows' bytes
)

// startWindow decides whether the first-pass window starting at block w,
// of about bytes bytes, is copied to the unicast receivers, and notes it
// for the unicast pass when not. Outside windows every batch is copied.
func (m *unicastMirror) startWindow(w int, bytes int64) {
	targets := len(m.current())
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inWindow, m.copyWindow = true, true
	if !m.firstPass || targets == 0 {
		return
	}
	m.copyTokens = min(m.copyTokens+copyShareFirstPass*float64(bytes), copyBurstWindows*float64(bytes))
	if m.copyTokens >= float64(bytes) {
		m.copyTokens -= float64(bytes)
		return
	}
	m.copyWindow = false
	m.passDue = append(m.passDue, w)
}

// endWindow ends the window startWindow began.
func (m *unicastMirror) endWindow() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inWindow = false
}

// shareBatch reports whether a data-group batch is copied now (mu held).
func (m *unicastMirror) shareBatch() bool { return !m.inWindow || m.copyWindow }

// passPending reports whether block b's window still awaits the unicast
// pass: a NACK for its blocks waits for it. (Windows start at the
// resumed prefix, not at multiples of interleave.)
func (m *unicastMirror) passPending(b int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.ContainsFunc(m.passDue, func(w int) bool { return w <= b && b < w+interleave })
}

// nextPassWindow returns the next window the unicast pass owes, and
// takes it off the list.
func (m *unicastMirror) nextPassWindow() (int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.passDue) == 0 {
		return 0, false
	}
	w := m.passDue[0]
	m.passDue = m.passDue[1:]
	return w, true
}

// endFirstPass lifts the first pass's share: from now on everything is
// copied.
func (m *unicastMirror) endFirstPass() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.firstPass = false
	m.firstPassShards = m.dataN
}

// skippedShare is the share of the first pass's data shards not copied
// to unicast receivers: not lost on their path, never sent to them.
func (m *unicastMirror) skippedShare() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.firstPassShards == 0 {
		return 0
	}
	return float64(m.skipped) / float64(m.firstPassShards)
}

// setGroupIdle says whether every receiver still owed data is served by
// unicast: then, once the first pass is over, data-group batches go to
// them alone.
func (m *unicastMirror) setGroupIdle(onlyUnicastLeft bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.groupIdle = onlyUnicastLeft && !m.firstPass
}

// markUnicast marks every receiver m serves by unicast (its deaf peers
// included, not only those switched by their statuses): none of them is
// a rate voter, and their first-pass share shows as loss. It reports
// whether at least one receiver is still owed data and every such
// receiver is on unicast.
func (t *receiverTable) markUnicast(m *unicastMirror) (onlyUnicastLeft bool) {
	targets := m.current()
	left, multicastLeft := 0, 0
	for _, p := range t.order {
		if len(targets) > 0 && !p.unicast { // every rate tick: no fingerprints without a unicast receiver
			fp := identity.Fingerprint(p.key[:])
			p.unicast = slices.ContainsFunc(targets, func(t mirrorTarget) bool { return t.fp == fp })
		}
		if p.active() {
			left++
			if !p.unicast {
				multicastLeft++
			}
		}
	}
	return left > 0 && multicastLeft == 0
}

// unicastProgress is called by the sender every rate tick and at the end
// of the first pass (a no-op without a mirror).
func (s *sender) unicastProgress(firstPassOver bool) {
	m := s.uni()
	if m == nil {
		return
	}
	if firstPassOver {
		m.endFirstPass()
	}
	m.setGroupIdle(s.table.markUnicast(m))
}

// unicastWindow tells the mirror a first-pass window starts (or, with
// start false, ended).
func (s *sender) unicastWindow(from, to int, start bool) {
	m := s.uni()
	if m == nil {
		return
	}
	if !start {
		m.endWindow()
		return
	}
	var bytes int64
	for b := from; b < to; b++ {
		bytes += int64(s.layout.blockLen(b))
	}
	m.startWindow(from, bytes)
}

// unicastPassWaits reports whether block b's window awaits the unicast
// pass (its NACKs are not served: the pass brings the whole window).
func (s *sender) unicastPassWaits(b int) bool {
	m := s.uni()
	return m != nil && m.passPending(b)
}

// unicastPass sends the next window the unicast receivers did not get in
// the first pass, as the first pass sent it; false when none is left.
func (s *sender) unicastPass(ctx context.Context) (bool, error) {
	m := s.uni()
	if m == nil {
		return false, nil
	}
	w, ok := m.nextPassWindow()
	if !ok {
		return false, nil
	}
	_, err := s.sendWindow(ctx, w, min(w+interleave, s.layout.blocks), true)
	return true, err
}

// pacedBytes is what a data batch of n bytes costs the sender's link:
// the group's copy (none while the group is idle) and one per unicast
// receiver it is copied to. Pacing the copies with the stream keeps the
// link within the rate: a copied window sent at the full rate beside the
// stream overflowed a 1 Gbit/s link (1.3 % loss at every receiver).
func pacedBytes(c multicast.Conn, n int) int {
	m, ok := c.(*unicastMirror)
	if !ok {
		return n
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cost := n
	if m.groupIdle {
		cost = 0
	}
	if m.shareBatch() {
		cost += n * len(m.targets)
	}
	return max(cost, n) // never free: the batch still takes the sender's time
}
