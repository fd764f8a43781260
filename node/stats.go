package node

import (
	"sync/atomic"

	"github.com/herald-lan/herald/protocol"
)

// Stats counts what the control-group reader did with each datagram.
// Every datagram lands in exactly one of Malformed, Own, BadSignature,
// Replayed, Duplicates, TooManySenders, Stale, Unhandled or
// Delivered-or-Dropped (a packet offered to
// several subscribers counts once per subscriber there).
type Stats struct {
	Received     uint64 // datagrams read
	Malformed    uint64 // bad magic/version/type, truncated, or not a signed type
	Own          uint64 // this process's own packets (multicast loopback)
	BadSignature uint64 // signature did not verify
	Replayed     uint64 // refused by the replay guard: seen long ago, or from a retired epoch (worth a user's attention)
	Duplicates   uint64 // refused by the replay guard: a copy of a packet accepted moments ago (herald's own, not an attack)
	// TooManySenders: refused because the guard's stranger table was full
	// of live senders, or the source address added its share of new keys
	// (a flood of fresh keys; trusted keys are never refused this way).
	TooManySenders uint64
	Stale          uint64                   // refused by the replay guard: timestamp outside the allowed clock skew
	Unhandled      map[protocol.Type]uint64 // verified, but nobody subscribed to the type
	Delivered      map[protocol.Type]uint64 // handed to a subscriber
	Dropped        map[protocol.Type]uint64 // a subscriber's queue was full
	// UnicastSent and UnicastFailed count datagrams sent by unicast
	// (SPEC.md §5.2); UnicastReceived those read from the unicast socket
	// (also counted in Received).
	UnicastSent, UnicastFailed, UnicastReceived uint64
}

// counters is the live, lock-free form of Stats.
type counters struct {
	received, malformed, own, badSignature, replayed, stale atomic.Uint64
	duplicates, tooManySenders                              atomic.Uint64
	unhandled, delivered, dropped                           [256]atomic.Uint64
	unicastSent, unicastFailed, unicastReceived             atomic.Uint64
}

// Stats returns a snapshot of the counters. Per-type maps hold only types
// with a non-zero count.
func (n *Node) Stats() Stats {
	c := &n.stats
	return Stats{
		Received:       c.received.Load(),
		Malformed:      c.malformed.Load(),
		Own:            c.own.Load(),
		BadSignature:   c.badSignature.Load(),
		Replayed:       c.replayed.Load(),
		Duplicates:     c.duplicates.Load(),
		TooManySenders: c.tooManySenders.Load(),
		Stale:          c.stale.Load(),
		Unhandled:      snapshot(&c.unhandled),
		Delivered:      snapshot(&c.delivered),
		Dropped:        snapshot(&c.dropped),

		UnicastSent:     c.unicastSent.Load(),
		UnicastFailed:   c.unicastFailed.Load(),
		UnicastReceived: c.unicastReceived.Load(),
	}
}

func snapshot(perType *[256]atomic.Uint64) map[protocol.Type]uint64 {
	m := make(map[protocol.Type]uint64)
	for t := range perType {
		if v := perType[t].Load(); v != 0 {
			m[protocol.Type(t)] = v
		}
	}
	return m
}
