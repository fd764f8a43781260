package push

import "net/netip"

// Statuses by unicast (SPEC.md §6.11). A receiver whose outgoing
// multicast is blocked (a host firewall, client isolation) would never be
// heard on the feedback group, and nothing tells it so in time: the push
// goes on without it. So every status is also sent, the same signed
// bytes, to the sender's unicast socket; the sender drops whichever copy
// comes second before checking its signature (unicast_feedback.go). The
// group copy stays: other receivers suppress their NACKs by it.

// statusUnicastTarget is the sender's unicast socket: the source of its
// latest unicast beacon (exact even when another process of its host
// holds the control port), else the address its signed packets came from
// at the control port.
func (s *rsession) statusUnicastTarget() netip.AddrPort {
	if dst, ok := s.r.n.UnicastRouteOf(s.sender); ok {
		return dst
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.senderAddrs) == 0 {
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(s.senderAddrs[0], s.r.n.Control.Port())
}

// sendStatusUnicast sends the status pkt to the sender by unicast, best
// effort: the group copy has gone already.
func (s *rsession) sendStatusUnicast(pkt []byte) {
	if !s.r.n.UnicastAddr().IsValid() {
		return // no unicast socket (an in-memory network, or it failed to open)
	}
	if dst := s.statusUnicastTarget(); dst.IsValid() {
		_ = s.r.n.SendTo(pkt, dst)
	}
}
