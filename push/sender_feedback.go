package push

import (
	"context"
	"net/netip"
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

// readFeedback reads the feedback group until ctx ends (which closes the
// socket). It verifies signatures and replay here, off the sending loop,
// and never blocks on the hand-off: a full channel drops the status
// (receivers repeat theirs every 100 ms).
func (s *sender) readFeedback(ctx context.Context) error {
	return multicast.ReadLoop(ctx, s.out.conn, feedbackBatch, protocol.MaxDatagram, func(b []byte, _ netip.AddrPort) {
		start := time.Now() // wall time: the cost of feedback, whatever the node's clock says
		st, ok := s.parseStatus(b)
		s.readerBusy += time.Since(start)
		if ok {
			select {
			case s.statuses <- st:
			default:
			}
		}
	})
}

func (s *sender) parseStatus(b []byte) (statusMsg, bool) {
	p, err := protocol.ParseSigned(b)
	if err != nil || p.Type != protocol.TypeStatus {
		return statusMsg{}, false
	}
	v, err := protocol.ParseStatus(p.Body)
	if err != nil || v.Session != s.sid || !p.Verify() {
		return statusMsg{}, false
	}
	if s.n.Replay.Check(p.Sender, p.Epoch, p.Counter, p.Time) != nil {
		return statusMsg{}, false
	}
	m := statusMsg{from: p.Sender, state: v.State, reason: v.Reason, havePrefix: v.HavePrefix,
		complete: v.Complete, loss: v.Loss, counts: shardCounts{v.Received, v.Lost, v.Overflow},
		nacks: make([]protocol.Nack, v.NackCount())}
	for i := range m.nacks {
		m.nacks[i] = v.Nack(i)
	}
	return m, true
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
	s.feedback.Nacks += int64(len(m.nacks))
	p, isNew, serve := s.table.apply(s.n.Now(), m)
	if isNew {
		s.emit(Event{Kind: EventJoined, Name: p.name, Sender: identity.Fingerprint(m.from[:])})
	}
	if serve {
		pad, _ := s.rc.baseline(p.id)
		for _, n := range m.nacks {
			s.handleNack(n, pad)
		}
	}
	return isNew
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
	need += int(float64(need)*min(pathLoss, 0.5) + 0.999)
	s.repairs.want(b, need)
}

// adapt feeds the rate controller once per rateTick and sets proactive
// parity from the receivers' path losses.
func (s *sender) adapt() {
	now := s.n.Now()
	if now.Sub(s.lastTick) < rateTick {
		return
	}
	s.lastTick = now
	s.samples = s.table.samples(now, s.samples)
	sent := s.out.takeSendSample(now)
	if r := s.rc.update(now, sent, s.samples, s.table.room()); r != s.pacer.Rate() {
		s.debug("rate", "mbit", int(r/1e6), "samples", s.samples, "written", sent.bytes, "blocked", sent.blocked)
		s.pacer.SetRate(r)
	}
	if !s.cfg.FixedParity {
		// Enough parity to cover the median receiver's path loss plus a
		// margin; repair serves those above it.
		loss := int(1000 * s.table.parityLoss(s.rc, s.lossBufs))
		k := s.layout.full.K()
		s.parity = 0
		if loss > 0 {
			s.parity = min((3*k*loss+1999)/2000+1, 255-k)
		}
	}
}

func (s *sender) progress() {
	s.emit(Event{Kind: EventProgress, Bytes: s.sentBytes, Total: s.src.Size(),
		Rate: s.rc.rate(), Loss: float64(s.table.worstLoss()) / 1000, Repair: s.repairN, Receivers: s.report().Receivers})
}
