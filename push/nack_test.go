package push

import (
	"testing"
	"time"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// A receiver asks only for blocks the first pass has sent: before the fix,
// one that heard no data for 200 ms (an outage, or only repairs of blocks
// it held) NACKed every block to the end of the file, and the sender
// pushed the rest of the file again as repair.
func TestNacksOnlyWhatTheFirstPassSent(t *testing.T) {
	p := newTestPush(t)
	lab := newRSessionLab(t, t.TempDir())
	s := lab.session(t, p, t.TempDir())
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range p.chunks {
		s.onData(c, lab.src)
	}
	for _, d := range p.shards[:testPushK] { // block 0 whole, then silence
		s.onData(d, lab.src)
	}
	s.lastData = time.Now().Add(-time.Minute)
	nacked := func() []uint32 {
		var st protocol.Status
		s.nacksLocked(&st)
		var out []uint32
		for _, n := range st.Nacks {
			out = append(out, n.Block)
		}
		return out
	}
	if got := nacked(); len(got) != 0 {
		t.Fatalf("nothing announced as sent beyond block 0, yet NACKed %v", got)
	}
	s.sentThrough = 2
	if got := nacked(); len(got) != 1 || got[0] != 1 {
		t.Fatalf("Sent = 2: NACKed %v, want [1]", got)
	}
	s.sentThrough = p.announce.Blocks
	if got := nacked(); len(got) != int(p.announce.Blocks)-1 {
		t.Fatalf("Sent = Blocks: NACKed %v, want every block but 0", got)
	}
}

// The sender ignores a NACK for a block its first pass has not finished,
// and one with nothing received for a block it sent moments ago.
func TestSenderIgnoresPrematureNacks(t *testing.T) {
	l := newMemLab(t, 0, multicast.Link{})
	s := newBareSender(t, l.sender, 100, 32)
	s.announce.Sent = 40
	s.handleNack(protocol.Nack{Block: 40}, 0)
	s.handleNack(protocol.Nack{Block: 99}, 0)
	if !s.repairs.empty() {
		t.Fatalf("repairs queued for blocks not yet sent: %v", s.repairs.need)
	}
	s.out.lastSent[10] = time.Now().UnixNano()
	s.out.nextIdx[10] = 36
	s.handleNack(protocol.Nack{Block: 10}, 0)
	if !s.repairs.empty() {
		t.Fatalf("repair queued for a block sent moments ago with nothing seen: %v", s.repairs.need)
	}
	s.handleNack(protocol.Nack{Block: 5, Have: 30, MaxIndex: 33}, 0)
	if got := s.repairs.need[5]; got != 2 {
		t.Fatalf("block 5 lacking 2 shards: %d queued, want 2", got)
	}
}

// A receiver's path loss (its baseline) follows its steady loss, not one
// interval of a burst: an outage that took 70 % of an interval must not
// buy parity or repair padding for the rest of the push.
func TestPathLossIgnoresBursts(t *testing.T) {
	p := pathLoss{}
	for _, loss := range []float64{0.05, 0.06, 0.05} {
		p.observe(1, loss, true)
	}
	p.observe(1, 0.7, false) // a burst: excess over the baseline
	if got, _ := p.get(1); got > 0.07 {
		t.Fatalf("baseline after 5, 6, 5, 70 %%: %.3f, want about 5 %%", got)
	}
	p.observe(1, 0.01, true)
	if got, _ := p.get(1); got > 0.05 {
		t.Fatalf("a path that got better: baseline %.3f, want it to drop at once", got)
	}
}
