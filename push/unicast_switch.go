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
	// deafGrace is the length of each half of a watch: long enough for
	// several statuses, so what a receiver says at the end of the second
	// half covers everything sent in the first, however late its status.
	deafGrace = 300 * time.Millisecond
	// deafMinShards is the least data shards written to the group in the
	// first half of a watch for a receiver that heard almost none to be
	// judged deaf.
	deafMinShards = 256
	// deafHeardShare: a receiver that received less than this share of the
	// shards written in the first half, and whose own socket did not drop
	// them (an overloaded receiver is not deaf), is deaf to the data group.
	deafHeardShare = 0.1
)

// deafWatch is one receiver's watch: where the data group's counters and
// the receiver's stood at its start and at its middle.
type deafWatch struct {
	at, mid             time.Time
	group, shards       int64 // written to the data group at the start
	midGroup, midShards int64 // and at the middle
	counts              shardCounts
}

// watchDeaf judges a receiver from a status it sent, and moves it to
// unicast when it is deaf to the data group (SPEC.md §6.11). A watch has
// two halves of deafGrace; at the first status after the second, it is
// judged on what was written in the first half:
//   - while it has no manifest: its status asks for every manifest chunk
//     though at least a manifest's worth of datagrams went to the data
//     group in the first half;
//   - while it receives: deafMinShards or more data shards went to the
//     group in the first half and, since the start, it received under
//     deafHeardShare of them, its own socket's drops apart.
//
// A receiver found hearing starts a new watch, so one that goes deaf
// mid-push (a group aged out) is found within two watches.
func (s *sender) watchDeaf(p *peerState, m statusMsg) {
	u := s.uni()
	if u == nil || p == nil || p.unicast || !p.active() {
		return
	}
	now := s.n.Now()
	group, shards := u.written()
	if s.watches == nil {
		s.watches = make(map[int]*deafWatch)
	}
	w := s.watches[p.id]
	switch {
	case w == nil:
		s.watches[p.id] = &deafWatch{at: now, group: group, shards: shards, counts: m.counts}
		return
	case w.mid.IsZero():
		if now.Sub(w.at) >= deafGrace {
			w.mid, w.midGroup, w.midShards = now, group, shards
		}
		return
	case now.Sub(w.mid) < deafGrace:
		return
	}
	deaf := false
	switch p.state {
	case protocol.StateJoined:
		parts := int64(s.announce.ManifestParts)
		deaf = w.midGroup-w.group >= parts && manifestNacks(m.nacks) >= min(parts, protocol.MaxNacks)
	case protocol.StateReceiving:
		d, written := m.counts.since(w.counts), w.midShards-w.shards
		heard := deafHeardShare * float64(written)
		deaf = written >= deafMinShards && float64(d.received) < heard && float64(d.overflow) < heard
	}
	if !deaf {
		s.watches[p.id] = &deafWatch{at: now, group: group, shards: shards, counts: m.counts}
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
