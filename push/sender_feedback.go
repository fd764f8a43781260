package push

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// manifestNack marks a NACK entry that asks for a manifest chunk
// (SPEC.md §6.6): Block = manifestNack | chunk index.
const manifestNack = 1 << 31

// statusMsg is a verified Status copied out of the packet buffer.
type statusMsg struct {
	from       [32]byte
	state      byte
	reason     byte
	havePrefix uint32
	complete   uint32
	loss       uint16
	nacks      []protocol.Nack
}

// peerState is what the sender knows of one receiver.
type peerState struct {
	key        [32]byte
	name       string
	state      byte
	reason     byte
	havePrefix uint32
	complete   uint32
	maxLoss    uint16
	lastLoss   uint16
	joined     time.Time
	heard      time.Time
	progressed time.Time
	done       time.Time
	dropped    bool
	states     uint8 // bit n set once state n was reported
}

// readFeedback reads the feedback group until ctx ends. It verifies
// signatures and replay here, off the sending loop, and never blocks on
// the hand-off: a full channel drops the status (receivers repeat).
func (s *sender) readFeedback(ctx context.Context) {
	go func() { <-ctx.Done(); s.conn.Close() }()
	msgs := make([]multicast.Message, 16)
	for i := range msgs {
		msgs[i].Buf = make([]byte, protocol.MaxDatagram)
	}
	for {
		n, err := s.conn.ReadBatch(msgs)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return
			}
			continue
		}
		for _, m := range msgs[:n] {
			if st, ok := s.parseStatus(m.Buf[:m.N]); ok {
				select {
				case s.statuses <- st:
				default:
				}
			}
		}
	}
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
		complete: v.Complete, loss: v.Loss, nacks: make([]protocol.Nack, v.NackCount())}
	for i := range m.nacks {
		m.nacks[i] = v.Nack(i)
	}
	return m, true
}

// drainStatuses handles every queued status; it reports whether a new
// receiver joined.
func (s *sender) drainStatuses() bool {
	joined := false
	for {
		select {
		case m := <-s.statuses:
			if s.handleStatus(m) {
				joined = true
			}
		default:
			return joined
		}
	}
}

func (s *sender) handleStatus(m statusMsg) (newPeer bool) {
	if !s.mayReport(m) {
		return false
	}
	// Progress is bounded: a receiver cannot claim more blocks than exist,
	// nor keep a push alive by flipping between states it already reported.
	m.complete, m.havePrefix = min(m.complete, uint32(s.blocks)), min(m.havePrefix, uint32(s.blocks))
	now := time.Now()
	p, ok := s.peers[m.from]
	if !ok {
		if len(s.peers) >= maxReceivers {
			return false
		}
		p = &peerState{key: m.from, joined: now, progressed: now}
		if peer, found := s.n.Trust.Lookup(m.from[:]); found {
			p.name = peer.Name
		}
		for _, r := range s.cfg.Recipients {
			if string(r.SignPub) == string(m.from[:]) {
				p.name = r.Name
			}
		}
		s.peers[m.from] = p
		newPeer = true
		s.emit(Event{Kind: EventJoined, Name: p.name, Sender: identity.Fingerprint(m.from[:])})
	}
	p.heard = now
	if m.complete > p.complete || p.states&(1<<m.state) == 0 {
		p.progressed = now
	}
	p.states |= 1 << m.state
	if p.state != protocol.StateComplete {
		p.state, p.reason = m.state, m.reason
	}
	if m.state == protocol.StateComplete && p.done.IsZero() {
		p.done = now
	}
	p.havePrefix, p.complete, p.lastLoss = m.havePrefix, max(p.complete, m.complete), m.loss
	p.maxLoss = max(p.maxLoss, m.loss)
	if p.dropped {
		return newPeer
	}
	for _, n := range m.nacks {
		s.handleNack(n)
	}
	return newPeer
}

// mayReport says whether a status counts. With --to, a key that is not a
// recipient cannot hold the session key, so all it may say is that it
// refused: its NACKs and progress would only let an outsider drive
// repair traffic or keep the push from ending.
func (s *sender) mayReport(m statusMsg) bool {
	if s.policy.mode != protocol.KeyModeRecipients || m.state == protocol.StateRefused {
		return true
	}
	for _, r := range s.cfg.Recipients {
		if string(r.SignPub) == string(m.from[:]) {
			return true
		}
	}
	return false
}

// handleNack turns one receiver's need into repair, discounting shards
// already on their way (sent after the highest index it has seen, less
// than repairGuard ago).
func (s *sender) handleNack(n protocol.Nack) {
	if n.Block&manifestNack != 0 {
		if len(s.manifestNeed) < protocol.MaxNacks*4 {
			s.manifestNeed = append(s.manifestNeed, n.Block&^manifestNack)
		}
		return
	}
	b := int(n.Block)
	if b >= s.blocks || b >= int(s.announce.Sent) {
		return // the first pass has not finished it: nothing is lost yet
	}
	bk := s.blockK(b)
	missing := bk - int(n.Have)
	if missing <= 0 {
		return
	}
	inflight := 0
	if time.Since(time.Unix(0, s.lastSent[b])) < repairGuard {
		if n.Have == 0 {
			return // sent moments ago and nothing seen yet: ask again later
		}
		inflight = int(s.nextIdx[b]) - int(n.MaxIndex) - 1
	}
	need := missing - max(inflight, 0)
	if need <= 0 {
		return
	}
	// Pad by the loss the worst receiver sees, so one round usually does.
	need += (need*int(s.rate.steadyLoss(s.worstLoss())) + 999) / 1000
	s.repairs.want(b, need)
}

func (s *sender) worstLoss() uint16 {
	var w uint16
	for _, p := range s.peers {
		if !p.dropped && p.state != protocol.StateComplete {
			w = max(w, p.lastLoss)
		}
	}
	return w
}

// settled reports whether nothing more is owed to anyone: each receiver
// is complete, refused, failed, silent or given up on.
func (s *sender) settled() bool {
	now := time.Now()
	for _, p := range s.peers {
		switch {
		case p.dropped, p.state == protocol.StateComplete, p.state == protocol.StateRefused, p.state == protocol.StateFailed:
		case now.Sub(p.heard) > silentAfter || now.Sub(p.progressed) > s.cfg.GiveUp:
			p.dropped = true
		default:
			return false
		}
	}
	return s.repairs.empty()
}

// adapt sets proactive parity and (with auto rate) the send rate from
// what receivers report.
func (s *sender) adapt() {
	loss := s.worstLoss()
	if s.rate.update(loss) {
		s.pacer.SetRate(s.rate.current())
	}
	loss = s.rate.steadyLoss(loss)
	if !s.cfg.FixedParity {
		// Enough parity to cover the reported loss plus a margin; repair
		// mops up the rest.
		k := s.full.K()
		s.parity = 0
		if loss > 0 {
			s.parity = min((3*k*int(loss)+1999)/2000+1, 255-k)
		}
	}
}

func (s *sender) countJoined() int {
	n := 0
	for _, p := range s.peers {
		if p.state != protocol.StateRefused {
			n++
		}
	}
	return n
}

// expectedJoined reports whether every --to recipient (or enough
// receivers for --min-receivers) has registered.
func (s *sender) expectedJoined() bool {
	if len(s.cfg.Recipients) > 0 {
		for _, r := range s.cfg.Recipients {
			var k [32]byte
			copy(k[:], r.SignPub)
			if p, ok := s.peers[k]; !ok || p.state == protocol.StateRefused {
				return false
			}
		}
	}
	return s.countJoined() >= s.cfg.MinReceivers
}

func (s *sender) progress() {
	s.emit(Event{Kind: EventProgress, Bytes: s.sentBytes, Total: s.src.Size(),
		Rate: s.rate.current(), Loss: float64(s.worstLoss()) / 1000, Repair: s.repairN, Receivers: s.report().Receivers})
}
