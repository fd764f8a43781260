package push

import (
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/protocol"
)

// Switching a receiver to unicast by its statuses (SPEC.md §6.11). A
// receiver can hear the control group (announce, grant) and not the data
// group: a firewall rule for one group, an IGMP-snooping switch that aged
// the data group out, an access point that drops fast multicast. Its
// statuses say so, and the sender then serves it by unicast for the rest
// of the push.
const (
	// deafGrace is the least time a receiver is watched before it can be
	// judged: a few status intervals, so one late status is not deafness.
	deafGrace = 500 * time.Millisecond
	// deafWindow: a receiver that was not judged deaf is watched afresh
	// from then on, so one that goes deaf mid-push (a group aged out) is
	// found within a window of it.
	deafWindow = 2 * time.Second
	// deafMinShards is the least data shards written to the group within
	// the watch before a receiver that heard almost none is judged deaf.
	deafMinShards = 256
	// deafHeardShare: a receiver that received less than this share of the
	// shards written in the watch, and whose own socket did not drop them
	// (an overloaded receiver is not deaf), is deaf to the data group.
	deafHeardShare = 0.1
)

// deafWatch is the start of one receiver's watch.
type deafWatch struct {
	at            time.Time
	group, shards int64       // written to the data group by then
	counts        shardCounts // its counts then
}

// watchDeaf judges a receiver from a status it sent, and moves it to
// unicast when it is deaf to the data group (SPEC.md §6.11):
//   - while it has no manifest: its status, deafGrace or more into the
//     watch, asks for every manifest chunk though at least a manifest's
//     worth of datagrams went to the data group meanwhile;
//   - while it receives: deafMinShards or more data shards went to the
//     group within the watch and it received under deafHeardShare of them,
//     its own socket's drops apart.
func (s *sender) watchDeaf(p *peerState, m statusMsg) {
	if p == nil || p.unicast || !p.active() {
		return
	}
	now := s.n.Now()
	u := s.uni()
	group, shards := u.written()
	if s.watches == nil {
		s.watches = make(map[int]*deafWatch)
	}
	w := s.watches[p.id]
	if w == nil || now.Sub(w.at) >= deafWindow {
		s.watches[p.id] = &deafWatch{at: now, group: group, shards: shards, counts: m.counts}
		return
	}
	if now.Sub(w.at) < deafGrace {
		return
	}
	deaf := false
	switch p.state {
	case protocol.StateJoined:
		parts := int64(s.announce.ManifestParts)
		deaf = group-w.group >= parts && manifestNacks(m.nacks) >= min(parts, protocol.MaxNacks)
	case protocol.StateReceiving:
		d, written := m.counts.since(w.counts), shards-w.shards
		heard := deafHeardShare * float64(written)
		deaf = written >= deafMinShards && float64(d.received) < heard && float64(d.overflow) < heard
	}
	if !deaf {
		return
	}
	addr, ok := u.copies.unicastAddr(p.key)
	if !ok {
		addr, ok = s.n.UnicastRouteOf(p.key)
	}
	if !ok {
		s.debug("deaf to the data group, no unicast address known", "receiver", p.name)
		return
	}
	if u.serve(identity.Fingerprint(p.key[:]), addr) {
		p.unicast = true
		delete(s.watches, p.id)
		// Its manifest NACKs in this status are served next, by unicast now.
		s.debug("deaf to the data group: served by unicast", "receiver", p.name, "addr", addr, "state", p.state)
	}
}

// manifestNacks counts the NACKs that ask for a manifest chunk.
func manifestNacks(ns []protocol.Nack) int64 {
	var c int64
	for _, n := range ns {
		if n.Block&manifestNack != 0 {
			c++
		}
	}
	return c
}
