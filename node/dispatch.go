package node

import (
	"bytes"
	"errors"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
	"github.com/herald-lan/herald/replay"
)

// handle runs one datagram through the checks in the package doc and
// hands it to the subscribers of its type. Cheapest checks first; nothing
// is allocated before the packet is accepted and someone wants it.
func (n *Node) handle(m *multicast.Message, unicast bool) {
	n.handleMu.Lock()
	defer n.handleMu.Unlock()
	c := &n.stats
	c.received.Add(1)
	s, err := protocol.ParseSigned(m.Buf[:m.N])
	if err != nil {
		c.malformed.Add(1)
		n.warnVersion(m.Src, err) // SPEC.md §3.5
		return
	}
	if s.Sender == n.self && s.Epoch == n.epoch {
		c.own.Add(1)
		return
	}
	if !s.Verify() {
		c.badSignature.Add(1)
		return
	}
	if err := n.Replay.CheckFrom(s.Sender, m.Src.Addr().Unmap(), s.Epoch, s.Counter, s.Time); err != nil {
		switch {
		case errors.Is(err, replay.ErrStale) || errors.Is(err, replay.ErrFuture):
			c.stale.Add(1)
			n.warnClockSkew(s.Sender, m.Src, s.Time)
		case errors.Is(err, replay.ErrDuplicate):
			c.duplicates.Add(1)
		case errors.Is(err, replay.ErrTooManySenders):
			c.tooManySenders.Add(1)
		default:
			c.replayed.Add(1)
		}
		return
	}
	if s.Type == protocol.TypeProbe {
		n.answerProbe(s, m.Src, m.N)
	}
	if s.Sender != n.self { // another process of ours is no peer
		if s.Type == protocol.TypeBeacon {
			if b, err := protocol.ParseBeacon(s.Body); err == nil {
				n.uni.observeBeacon(s.Sender, s.Epoch, m.Src, unicast, b.Flags, n.now())
				n.versions.noteBeacon(m.Src.Addr().Unmap(), s.Sender, b) // names peers in version warnings
			}
		} else if !unicast {
			n.uni.observeGroup(s.Sender, n.now()) // it is heard on the group (SPEC.md §5.2)
		}
	}
	n.subs.mu.RLock()
	defer n.subs.mu.RUnlock()
	chans, obs := n.subs.byType[s.Type], n.subs.observers[s.Type]
	if len(chans) == 0 && len(obs) == 0 {
		c.unhandled[s.Type].Add(1)
		return
	}
	raw := bytes.Clone(m.Buf[:m.N])
	owned, _ := protocol.ParseSigned(raw) // same bytes, parsed above
	pkt := Packet{Signed: owned, Src: m.Src, Raw: raw, Unicast: unicast}
	for _, o := range obs {
		o.fn(pkt)
	}
	for _, ch := range chans {
		select {
		case ch <- pkt:
			c.delivered[s.Type].Add(1)
		default:
			c.dropped[s.Type].Add(1)
		}
	}
}
