package push

import (
	"slices"
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
	s, p, lab := sessionWithManifest(t)
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

// A receiver behind in its reading has the announce that says the first
// pass is over before the shards queued in its data socket: it does not
// ask for blocks past the 64 below its highest until it caught up with
// Sent's last window or its data went quiet.
func TestNackLimitWaitsForTheBacklog(t *testing.T) {
	s, _, _ := sessionWithManifest(t)
	s.highest, s.sentThrough = 100, 400
	s.lastData = s.r.n.Now()
	if got := s.nackLimit(); got != 100-2*interleave {
		t.Fatalf("reading block 100 of a first pass that sent 400: limit %d, want %d", got, 100-2*interleave)
	}
	s.highest = 400 - interleave
	if got := s.nackLimit(); got != 400 {
		t.Fatalf("caught up with Sent's last window: limit %d, want 400", got)
	}
	s.highest = 100
	s.lastData = s.r.n.Now().Add(-repairQuiet)
	if got := s.nackLimit(); got != 400 {
		t.Fatalf("data quiet (an outage): limit %d, want 400", got)
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
		p.observe(1, loss, 0.02)
	}
	p.observe(1, 0.7, 0.02) // a burst: excess over the baseline
	if got, _ := p.get(1); got > 0.07 {
		t.Fatalf("baseline after 5, 6, 5, 70 %%: %.3f, want about 5 %%", got)
	}
	p.observe(1, 0.01, 0.02)
	if got, _ := p.get(1); got > 0.05 {
		t.Fatalf("a path that got better: baseline %.3f, want it to drop at once", got)
	}
}

// A receiver does not ask again for a block whose repair is plausibly on
// the way (SPEC.md §6.6): within the hold after its own NACK, or
// another's that asks for at least as much; longer while shards of
// blocks it lacks keep arriving after the first pass; and not while the
// block's own shards are arriving. Once the repair is overdue it asks
// again.
func TestNackHeldWhileRepairInFlight(t *testing.T) {
	s, p, lab := sessionWithManifest(t)
	for _, d := range p.shards[:testPushK] { // block 0 whole
		s.onData(d, lab.src)
	}
	s.onData(p.shards[testPushK], lab.src) // one shard of block 1
	s.sentThrough = p.announce.Blocks
	s.lastData = time.Now().Add(-time.Minute)
	now := s.r.n.Now()
	due := func(b uint32) bool { _, ok := s.dueNack(b, now); return ok }
	if !due(1) || !due(2) || !s.nackDueLocked(now) {
		t.Fatal("incomplete blocks after the first pass are not due")
	}
	hold := nackHold + nackBackoff(s.group)
	s.noteAsked([]protocol.Nack{{Block: 2}}, now)
	if due(2) {
		t.Fatal("a block NACKed moments ago is due again")
	}
	s.asked[2] = askMark{at: now.Add(-hold - time.Millisecond)}
	if !due(2) {
		t.Fatal("a block NACKed a hold ago, its repair overdue, is not asked for again")
	}
	s.lastData = now // repair of blocks we lack is flowing
	if due(2) {
		t.Fatal("asked again while repair still flows, well within the hold limit")
	}
	s.asked[2] = askMark{at: now.Add(-s.nackHoldLimit())}
	m := s.marks[2]
	m.since = now.Add(-s.nackHoldLimit()) // due for that long too
	s.marks[2] = m
	if !due(2) {
		t.Fatal("held past the hold limit: a lost NACK would never be repeated while others are repaired")
	}
	s.lastData = now.Add(-time.Minute)
	s.suppress[1] = suppressed{at: now, have: 0}
	if due(1) {
		t.Fatal("another receiver's NACK asking for more (Have 0 <= ours) did not hold ours")
	}
	s.suppress[1] = suppressed{at: now, have: testPushK}
	if !due(1) {
		t.Fatal("another receiver's NACK asking for less held ours")
	}
	delete(s.suppress, 1)
	s.onData(p.shards[testPushK+1], lab.src) // block 1's shards are moving: a repair arrives
	now = s.r.n.Now()
	if due(1) {
		t.Fatal("a block whose shards are arriving is asked for")
	}
	now = now.Add(repairQuiet)
	if !due(1) {
		t.Fatal("a block whose repair stopped short is never asked for again")
	}
}

// sessionWithManifest is a receiving session of a test push that holds
// its manifest, with its lock held until the test ends.
func sessionWithManifest(t *testing.T) (*rsession, *testPush, *rsessionLab) {
	t.Helper()
	p := newTestPush(t)
	lab := newRSessionLab(t, t.TempDir())
	s := lab.session(t, p, t.TempDir())
	s.mu.Lock()
	t.Cleanup(s.mu.Unlock)
	for _, c := range p.chunks {
		s.onData(c, lab.src)
	}
	return s, p, lab
}

// Repair is padded: nothing without path loss, by the mean for a small
// need on an ordinary path, by a margin above the mean on a lossy path or
// for a block lost nearly whole, and bounded.
func TestPadRepair(t *testing.T) {
	for _, c := range []struct {
		need int
		p    float64
		want int
	}{{13, 0, 13}, {1, 0.2, 3}, {13, 0.2, 20}, {3, 0.03, 4}, {7, 0.05, 8}, {8, 0.05, 10}, {64, 0.05, 71}, {10, 0.9, 28}, {13, 0.1, 17}} {
		if got := padRepair(c.need, c.p); got != c.want {
			t.Errorf("padRepair(%d, %.2f) = %d, want %d", c.need, c.p, got, c.want)
		}
	}
}

// A block whose repair was lost whole is asked for again as soon as the
// repair of the same status arrived for another block and the data went
// quiet (repairLostQuiet), not after the hold: the sender drained its queue,
// so nothing more of it is on the way.
func TestNackAgainWhenItsRepairWasLost(t *testing.T) {
	s, p, lab := sessionWithManifest(t)
	s.sentThrough = p.announce.Blocks
	now := s.r.n.Now()
	due := func(b uint32, at time.Time) bool { _, ok := s.dueNack(b, at); return ok }
	if !due(0, now) || !due(1, now) {
		t.Fatal("incomplete blocks after the first pass are not due")
	}
	asked := now
	s.noteAsked([]protocol.Nack{{Block: 0}, {Block: 1}}, asked)
	quietAfter := asked.Add(repairLostQuiet)
	s.lastData = asked.Add(-time.Minute)
	if due(1, quietAfter) {
		t.Fatal("asked again with no sign that the sender served the status")
	}
	for _, d := range p.shards[:testPushK] { // block 0's repair arrives whole: the status was served
		s.onData(d, lab.src)
	}
	s.lastData = asked.Add(time.Millisecond)
	if due(1, s.lastData.Add(repairLostQuiet/2)) {
		t.Fatal("asked again before the data went quiet")
	}
	if !due(1, s.lastData.Add(repairLostQuiet)) {
		t.Fatal("a block whose repair was lost waits out the hold after its status was served")
	}
	s.noteAsked([]protocol.Nack{{Block: 1}}, s.lastData.Add(repairLostQuiet))
	if due(1, s.lastData.Add(3*repairLostQuiet)) {
		t.Fatal("the new NACK is held like any other until its own status is served")
	}
}

// A block whose repair was overtaken is asked for again while data still
// flows: the sender repairs lowest block first, so repair that arrived
// for a higher block asked for in the same status means this block's went
// by, lost whole. A block asked for later than the served one, or one
// with nothing above it served, waits as before.
func TestNackAgainWhenItsRepairWasOvertaken(t *testing.T) {
	s, p, lab := sessionWithManifest(t)
	s.sentThrough = p.announce.Blocks
	due := func(b uint32, at time.Time) bool {
		s.lastData = at // data flows all along: the others' repair
		s.nackScanLimit(at)
		_, ok := s.dueNack(b, at)
		return ok
	}
	asked := s.r.n.Now()
	for b := range uint32(4) {
		due(b, asked) // first sight of each block
	}
	s.noteAsked([]protocol.Nack{{Block: 0}, {Block: 2}, {Block: 3}}, asked)
	s.onData(p.shards[2*testPushK+1], lab.src) // repair for block 2, above the index it was asked with
	served := asked.Add(5 * time.Millisecond)
	due(2, served) // notices block 2's repair
	if due(0, served.Add(repairLostQuiet/2)) {
		t.Fatal("asked again within the sender's repair guard of the repair that overtook it")
	}
	if !due(0, served.Add(repairLostQuiet)) {
		t.Fatal("a block whose repair was overtaken by a higher block's waits out the hold while data flows")
	}
	if due(3, served.Add(repairLostQuiet)) {
		t.Fatal("a block with no served block above it is asked for again")
	}
	later := served.Add(repairLostQuiet)
	s.noteAsked([]protocol.Nack{{Block: 0}, {Block: 1}}, later)
	if due(1, later.Add(2*repairLostQuiet)) || due(0, later.Add(2*repairLostQuiet)) {
		t.Fatal("blocks asked for after the served one count it as overtaking them")
	}
}

// A receiver whose path loss is not known yet (a large group reports
// every few seconds) has its repair padded by the median receiver's, not
// by none; once its own is known, by its own.
func TestRepairPadForAnUnknownPath(t *testing.T) {
	s := newBareSender(t, newMemLab(t, 0, multicast.Link{}).sender, 4, 4)
	s.lossBufs = []float64{0.03, 0.05, 0.2}
	if got := s.repairPad(7); got != 0.05 {
		t.Fatalf("unknown path padded by %.3f, want the median 0.05", got)
	}
	s.rc.(*fixedRate).paths.observe(7, 0.2, 0.02)
	if got := s.repairPad(7); got != 0.2 {
		t.Fatalf("known path padded by %.3f, want its own 0.2", got)
	}
}

// A receiver asks for every manifest chunk when it registers, before the
// sender sent any. A chunk then lost from the first copy is asked for
// again after manifestNackHold, not nackHold: the room waits for it.
func TestManifestChunkAskedAgainSoon(t *testing.T) {
	p := newTestPush(t)
	lab := newRSessionLab(t, t.TempDir())
	s := lab.session(t, p, t.TempDir())
	s.mu.Lock()
	defer s.mu.Unlock()
	asksChunk0 := func() bool {
		st, _, _ := s.statusLocked()
		return slices.Contains(st.Nacks, protocol.Nack{Block: manifestNack})
	}
	if !asksChunk0() {
		t.Fatal("the registration status does not ask for the manifest")
	}
	registered := s.r.n.Now()
	s.noteAsked([]protocol.Nack{{Block: manifestNack}}, registered)
	if asksChunk0() {
		t.Fatal("chunk asked for again at once")
	}
	// The first copy went out and chunk 0 was lost on the way.
	s.asked[manifestNack] = askMark{at: registered.Add(-manifestNackHold - nackBackoff(s.group))}
	if !asksChunk0() {
		t.Fatalf("chunk not asked for again %v after the registration status", manifestNackHold)
	}
}
