package push

import (
	"net/netip"
	"time"
)

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

// routeRecheck bounds how often a session looks up the sender's unicast
// route for a datagram from an address it does not know.
const routeRecheck = 250 * time.Millisecond

// onUnicastData takes a datagram that came to the node's unicast socket.
// Besides the addresses the sender's session packets came from, the
// source of the sender's own signed unicast beacons may carry its data:
// a sender whose unicast socket is not where its multicast leaves from
// (another interface address, another port) still serves us. s.mu is held.
func (s *rsession) onUnicastData(b []byte, src netip.AddrPort) {
	if !s.fromSender(src) && len(s.senderAddrs) < maxSenderAddrs {
		if now := s.r.n.Now(); now.Sub(s.routeChecked) >= routeRecheck {
			s.routeChecked = now
			if route, ok := s.r.n.UnicastRouteOf(s.sender); ok && route.Addr() == src.Addr().Unmap() {
				s.senderAddrs = append(s.senderAddrs, route.Addr())
			}
		}
	}
	s.onData(b, src)
}
