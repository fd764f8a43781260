package node

import (
	"net/netip"
	"slices"
	"sync"

	"github.com/herald-lan/herald/protocol"
)

// MaxQueue bounds a subscriber's queue; Subscribe clamps to 1..MaxQueue.
const MaxQueue = 4096

// Packet is a signed packet received on the control group (or by
// unicast) whose
// signature verified and which the replay guard accepted once. Raw is a
// copy owned by the packet (Signed's slices point into it); it is shared
// by every subscriber of the type, so it MUST NOT be modified.
type Packet struct {
	protocol.Signed
	Src netip.AddrPort
	Raw []byte
	// Unicast: the packet came to the Node's unicast socket, not the
	// control group (SPEC.md §5.2).
	Unicast bool
}

// subscribers holds the bounded channels of each packet type. Safe for
// concurrent use: Subscribe and closeAll write under mu, the reader reads
// under the read lock.
type subscribers struct {
	mu        sync.RWMutex
	byType    map[protocol.Type][]chan Packet
	observers map[protocol.Type][]*observer
	closed    bool
}

// observer is one Observe registration; its address identifies it.
type observer struct{ fn func(Packet) }

// Subscribe returns a channel that receives every accepted packet of type
// t, with room for queue packets (clamped to 1..MaxQueue). When it is
// full, packets for it are dropped and counted in Stats.Dropped; other
// subscribers are unaffected. The channel is closed when the Node stops;
// subscribing to a stopped Node returns a closed channel.
func (n *Node) Subscribe(t protocol.Type, queue int) <-chan Packet {
	ch := make(chan Packet, min(max(queue, 1), MaxQueue))
	s := &n.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		close(ch)
		return ch
	}
	if s.byType == nil {
		s.byType = make(map[protocol.Type][]chan Packet)
	}
	s.byType[t] = append(s.byType[t], ch)
	return ch
}

// Unsubscribe stops delivery to ch, a channel from Subscribe, so a
// finished consumer (one push.Receive of many) neither holds its queue
// nor costs the reader a send. ch is not closed; unknown channels are
// ignored.
func (n *Node) Unsubscribe(ch <-chan Packet) {
	s := &n.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, chans := range s.byType {
		for i, c := range chans {
			if (<-chan Packet)(c) == ch {
				s.byType[t] = slices.Delete(chans, i, i+1)
				if len(s.byType[t]) == 0 {
					delete(s.byType, t)
				}
				return
			}
		}
	}
}

// Observe makes fn see every accepted packet of type t on the reader
// goroutine, before the packet reaches any subscriber and before the next
// datagram is looked at. State that later packets depend on (presence's
// peer table, which names the sender of the message that follows a
// beacon) is therefore current when they are dispatched, whatever the
// scheduler does. fn MUST return quickly and MUST NOT block or call back
// into the Node's subscription methods; it runs until stop is called.
func (n *Node) Observe(t protocol.Type, fn func(Packet)) (stop func()) {
	o := &observer{fn: fn}
	s := &n.subs
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.observers == nil {
		s.observers = make(map[protocol.Type][]*observer)
	}
	s.observers[t] = append(s.observers[t], o)
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		obs := s.observers[t]
		if i := slices.Index(obs, o); i >= 0 {
			s.observers[t] = slices.Delete(obs, i, i+1)
		}
	}
}

// closeAll closes every subscriber channel once; the reader must have
// stopped.
func (s *subscribers) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for _, chans := range s.byType {
		for _, ch := range chans {
			close(ch)
		}
	}
	s.byType = nil
}
