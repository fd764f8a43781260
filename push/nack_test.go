package push

import (
	"testing"
	"time"

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
	s := &sender{blocks: 100, nextIdx: make([]uint16, 100), lastSent: make([]int64, 100),
		repairs: newRepairQueue(100), rate: newRateControl(1e8, 1e8)}
	s.full = mustCode(t, 32)
	s.last = s.full
	s.announce.Sent = 40
	s.handleNack(protocol.Nack{Block: 40})
	s.handleNack(protocol.Nack{Block: 99})
	if !s.repairs.empty() {
		t.Fatalf("repairs queued for blocks not yet sent: %v", s.repairs.need)
	}
	s.lastSent[10] = time.Now().UnixNano()
	s.nextIdx[10] = 36
	s.handleNack(protocol.Nack{Block: 10})
	if !s.repairs.empty() {
		t.Fatalf("repair queued for a block sent moments ago with nothing seen: %v", s.repairs.need)
	}
	s.handleNack(protocol.Nack{Block: 5, Have: 30, MaxIndex: 33})
	if got := s.repairs.need[5]; got != 2 {
		t.Fatalf("block 5 lacking 2 shards: %d queued, want 2", got)
	}
}

// Parity and repair padding follow the steady loss, not one interval of a
// burst: an outage that took 70 % of an interval must not buy 100 % parity
// for the rest of the push.
func TestSteadyLossIgnoresBursts(t *testing.T) {
	r := newRateControl(1e8, 1e8) // fixed rate: the history still counts
	if got := r.steadyLoss(300); got != 300 {
		t.Fatalf("no history yet: %d, want the latest 300", got)
	}
	r.start = time.Now().Add(-time.Second)
	for _, loss := range []uint16{50, 60, 700} {
		r.last = time.Time{}
		r.update(loss)
	}
	if got := r.steadyLoss(700); got != 70 {
		t.Fatalf("steady loss after 50, 60, 700 ‰: %d, want 70 (lowest + 20)", got)
	}
	if got := r.steadyLoss(55); got != 55 {
		t.Fatalf("a latest loss under the cap: %d, want 55", got)
	}
}
