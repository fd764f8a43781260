package push

import (
	"context"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// manifestNack marks a NACK entry that asks for a manifest chunk
// (SPEC.md §6.6): Block = manifestNack | chunk index.
const manifestNack = 1 << 31

// feedbackBatch is how many statuses one read takes.
const feedbackBatch = 16

// Load shedding in the feedback reader (SPEC.md §6.7). A receiver whose
// status passed verification less than shedRecent ago is known alive
// (liveness, read by the receiver table's silence check); when the
// hand-off to the run goroutine is half full, its routine statuses
// (joined or receiving, no NACKs) are dropped before their signature is
// checked, and when the hand-off is full, all of its statuses are: they
// only repeat what its next one says. A receiver not verified lately is
// always verified, and counted alive even if the full hand-off then drops
// its status. Nothing unverified is ever used: shedding only spares work.
const (
	shedRecent = 2 * time.Second // < silentAfterMin/2, so a shed receiver is never counted silent
	shedKeys   = 2 * maxReceivers
)

// liveness is when each receiver's status last passed verification in
// the feedback reader, shared with the run goroutine's silence checks.
type liveness struct {
	mu sync.Mutex
	at map[[32]byte]time.Time
}

func newLiveness() *liveness { return &liveness{at: map[[32]byte]time.Time{}} }

func (l *liveness) get(key [32]byte) time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.at[key]
}

func (l *liveness) set(key [32]byte, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.at[key]; !ok && len(l.at) >= shedKeys {
		return // bounded: a key beyond it is only verified every time
	}
	l.at[key] = at
}

// readFeedback reads the feedback group, and the statuses receivers send
// by unicast (unicast_feedback.go), until ctx ends (which closes the
// socket). It verifies signatures and replay here, off the sending loop,
// and never blocks on the hand-off.
func (s *sender) readFeedback(ctx context.Context) error {
	unicastBusy := s.readUnicastFeedback(ctx)
	err := multicast.ReadLoop(ctx, s.out.conn, feedbackBatch, protocol.MaxDatagram, func(b []byte, src netip.AddrPort) {
		start := time.Now() // wall time: the cost of feedback, whatever the node's clock says
		s.takeStatus(b, src, false)
		s.readerBusy += time.Since(start)
	})
	s.readerBusy += unicastBusy()
	return err
}

// verifyStatus is takeStatus's check of a new status (not a second
// copy): it sheds the status unverified when the hand-off is busy and the
// receiver is known alive, else verifies it (signature, replay), counts
// the receiver alive and copies it out.
func (s *sender) verifyStatus(b []byte, now time.Time) (statusMsg, bool) {
	p, v, ok := s.parseStatus(b)
	if !ok {
		return statusMsg{}, false
	}
	queued, recent := len(s.statuses), now.Sub(s.table.alive.get(p.Sender)) < shedRecent
	if recent && (queued >= cap(s.statuses) || queued >= cap(s.statuses)/2 && routine(v)) {
		s.readerShed.Add(1)
		return statusMsg{}, false
	}
	if !p.Verify() || s.n.Replay.Check(p.Sender, p.Epoch, p.Counter, p.Time) != nil {
		return statusMsg{}, false
	}
	s.table.alive.set(p.Sender, now)
	return statusOf(p.Sender, v, now), true
}

// handOff gives a verified status to the run goroutine, never blocking:
// a full hand-off drops it (the receiver is counted alive already).
func (s *sender) handOff(m statusMsg) {
	select {
	case s.statuses <- m:
	default:
		s.readerShed.Add(1)
	}
}

// routine reports whether a status only repeats progress: no NACKs, and
// a state the receiver stays in.
func routine(v protocol.StatusView) bool {
	return v.NackCount() == 0 && (v.State == protocol.StateJoined || v.State == protocol.StateReceiving)
}

// parseStatus parses a signed Status of this session without verifying
// it (cheap: the reader decides first whether it is worth verifying).
func (s *sender) parseStatus(b []byte) (protocol.Signed, protocol.StatusView, bool) {
	p, err := protocol.ParseSigned(b)
	if err != nil || p.Type != protocol.TypeStatus {
		return p, protocol.StatusView{}, false
	}
	v, err := protocol.ParseStatus(p.Body)
	if err != nil || v.Session != s.sid {
		return p, v, false
	}
	return p, v, true
}

// statusOf copies a verified status out of the packet buffer.
func statusOf(from [32]byte, v protocol.StatusView, arrived time.Time) statusMsg {
	m := statusMsg{from: from, arrived: arrived, state: v.State, reason: v.Reason, havePrefix: v.HavePrefix,
		complete: v.Complete, loss: v.Loss, counts: shardCounts{v.Received, v.Lost, v.Overflow},
		nacks: make([]protocol.Nack, v.NackCount())}
	for i := range m.nacks {
		m.nacks[i] = v.Nack(i)
	}
	return m
}

// drainStatuses handles every queued status.
func (s *sender) drainStatuses() {
	for {
		select {
		case m := <-s.statuses:
			s.handleStatus(m)
		default:
			return
		}
	}
}

// handleStatus records a status in the receiver table and queues the
// repair its NACKs ask for; it reports whether a new receiver joined.
func (s *sender) handleStatus(m statusMsg) (newPeer bool) {
	start := time.Now() // wall time, as in readFeedback
	defer func() { s.feedback.Busy += time.Since(start) }()
	s.feedback.Statuses++
	blockNacks := 0
	for _, n := range m.nacks {
		if n.Block&manifestNack == 0 {
			blockNacks++
		}
	}
	s.feedback.Nacks += int64(blockNacks)
	s.feedback.ManifestNacks += int64(len(m.nacks) - blockNacks)
	if blockNacks > 0 {
		s.feedback.NackStatuses++
	}
	p, isNew, serve := s.table.apply(s.n.Now(), m)
	if p != nil && s.rc.observeQueue(p.id, s.n.Now(), s.out.total, uint64(m.counts.received)+uint64(m.counts.lost)) {
		s.lastTick = time.Time{} // a queue: the rate is looked at now (rate_queue.go)
	}
	s.watchDeaf(p, m) // unicast_switch.go
	if isNew {
		s.emit(Event{Kind: EventJoined, Name: p.name, Sender: identity.Fingerprint(m.from[:])})
	}
	if serve {
		pad := s.repairPad(p.id)
		for _, n := range m.nacks {
			s.handleNack(n, pad)
		}
	}
	return isNew
}

// repairPad is the path loss a receiver's repair is padded by: its
// baseline, or while that is not known yet (a large group reports every
// few seconds) the median receiver's, not none.
func (s *sender) repairPad(peer int) float64 {
	if p, ok := s.rc.baseline(peer); ok {
		return p
	}
	return parityLoss(s.lossBufs)
}

// handleNack turns one receiver's need into repair, discounting shards
// already on their way (sent after the highest index it has seen, less
// than repairGuard ago), and padding by that receiver's path loss so one
// round usually does.
func (s *sender) handleNack(n protocol.Nack, pathLoss float64) {
	if n.Block&manifestNack != 0 {
		if len(s.manifestNeed) < protocol.MaxNacks*4 {
			s.manifestNeed = append(s.manifestNeed, n.Block&^manifestNack)
		}
		return
	}
	b := int(n.Block)
	if b >= s.layout.blocks || b >= int(s.announce.Sent) {
		return // the first pass has not finished it: nothing is lost yet
	}
	if s.unicastPassWaits(b) {
		return // unicast_share.go: the unicast pass sends its whole window
	}
	missing := s.layout.blockK(b) - int(n.Have)
	if missing <= 0 {
		return
	}
	inflight := 0
	if s.n.Now().Sub(time.Unix(0, s.out.lastSent[b])) < repairGuard {
		if n.Have == 0 {
			return // sent moments ago and nothing seen yet: ask again later
		}
		inflight = int(s.out.nextIdx[b]) - int(n.MaxIndex) - 1
	}
	need := missing - max(inflight, 0)
	if need <= 0 {
		return
	}
	s.repairs.want(b, padRepair(need, pathLoss))
}

// repairMargin is how many binomial deviations of the asking receiver's
// path loss a repair is padded by, on a lossy path (repairMarginFrom and
// up): at 20 % loss a block that lacks 13 shards gets 20, so about 1
// block in 15 needs another round, where padding by the mean alone left
// half of them short (each round costs a NACK's backoff and settle,
// ~0.1 s). Below it the mean does: a room of ordinary paths NACKs the
// same blocks from many receivers, each one's padding goes to all, and
// the wire grew 1.24x -> 1.35x at 10 receivers and 5 % with the margin.
const (
	repairMargin     = 1.5
	repairMarginFrom = 0.10
	// repairMarginNeed: a NACK lacking this many shards or more is padded
	// with the margin whatever the path: a block lost nearly whole (its
	// lists lost, a burst, an overflow) takes 57 shards at 5 %, and padding
	// by the mean left it short every other time, costing that receiver a
	// round each; the margin adds two or three shards. Small needs, the
	// common case, keep the mean.
	repairMarginNeed = 8
)

// padRepair is how many fresh shards to send for need at path loss p (at
// most 0.5): below repairMarginFrom and repairMarginNeed, need +
// ceil(need·p); from either, the smallest n with
// n(1−p) − repairMargin·sqrt(n·p(1−p)) ≥ need.
func padRepair(need int, p float64) int {
	p = min(max(p, 0), 0.5)
	if p < repairMarginFrom && need < repairMarginNeed {
		return need + int(math.Ceil(float64(need)*p))
	}
	n := need
	for float64(n)*(1-p)-repairMargin*math.Sqrt(float64(n)*p*(1-p)) < float64(need) && n < 3*need+8 {
		n++
	}
	return n
}

// adapt feeds the rate controller once per its tick and sets proactive
// parity from the receivers' path losses.
func (s *sender) adapt() {
	now := s.n.Now()
	if now.Sub(s.lastTick) < s.rc.tick() {
		return
	}
	s.lastTick = now
	s.unicastProgress(false) // unicast_share.go: who is on unicast, and whether the group still needs data
	s.samples = s.table.samples(now, s.samples)
	sent := s.out.takeSendSample(now)
	if r := s.rc.update(now, sent, s.samples, s.table.room()); r != s.pacer.Rate() {
		s.debug("rate", "mbit", int(r/1e6), "why", s.rc.why(), "samples", s.samples, "written", sent.bytes, "blocked", sent.blocked)
		s.pacer.SetRate(r)
	}
	var unknown int
	s.lossBufs, unknown = s.table.pathLosses(s.rc, s.lossBufs)
	s.listCopies = listCopiesFor(s.layout.full.K(), s.lossBufs, unknown)
	if !s.cfg.FixedParity {
		s.parity = proactiveParity(s.layout.full.K(), s.table.joined(), parityLoss(s.lossBufs))
	}
}

func (s *sender) progress() {
	s.emit(Event{Kind: EventProgress, Bytes: s.sentBytes, Total: s.src.Size(),
		Rate: s.rc.rate(), Loss: float64(s.table.worstLoss()) / 1000, Repair: s.repairN, Receivers: s.report().Receivers})
}
