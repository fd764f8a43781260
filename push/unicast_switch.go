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
	// deafGraceManifest is deafGrace while a receiver lacks the manifest:
	// every receiver waits for the manifest phase to end, so a deaf one
	// must be found faster there; a manifest chunk is handled in well
	// under a status interval, so 1.5 of them tell.
	deafGraceManifest = 150 * time.Millisecond
	// deafMinShards is the least data shards written to the group in the
	// first half of a watch for a receiver that heard almost none to be
	// judged deaf.
	deafMinShards = 256
	// deafHeardShare: a receiver that received less than this share of the
	// shards written in the first half, and whose own socket did not drop
	// them (an overloaded receiver is not deaf), is deaf to the data group.
	deafHeardShare = 0.1
	// deafStrikes is how many watches in a row must find a receiving
	// receiver deaf (one suffices without the manifest, where every
	// receiver waits).
	deafStrikes = 2
	// deafManifestCopies is how many manifests' worth of datagrams must
	// go to the data group in the first half of a watch before a receiver
	// without the manifest is judged: one that asks for every chunk has
	// lost every copy, and a receiver at 20 % loss loses a whole copy
	// (one GRO train to the lab's loss rule) one time in five. Its NACKs
	// bring a copy every manifestNackHold, so a deaf one is not found
	// later for it.
	deafManifestCopies = 2
)

// deafWatch is one receiver's watch: where the data group's counters and
// the receiver's stood at its start and at its middle.
type deafWatch struct {
	at, mid             time.Time
	group, shards       int64 // written to the data group at the start
	midGroup, midShards int64 // and at the middle
	counts              shardCounts
	strikes             int // earlier watches in a row that found it deaf while receiving
	// askedWholeManifest: without the manifest, a status well inside the
	// second half asked for every chunk. The status that ends the watch
	// may not: a receiver holds a chunk's NACK for nackHold after asking,
	// and that status falling in the hold restarted the watch (0.5-1.4 s
	// to find a deaf receiver, all of it spent holding the manifest phase).
	askedWholeManifest bool
}

// watchDeaf judges a receiver from a status it sent, and moves it to
// unicast when it is deaf to the data group (SPEC.md §6.11). A watch has
// two halves of at least deafGrace (deafGraceManifest without the
// manifest), the first until enough was written (judgeable); the first
// status after the second half is judged on what was written in the
// first:
//   - while it has no manifest: its status asks for every manifest chunk;
//   - while it receives: since the start it received under
//     deafHeardShare of the data shards, its own socket's drops apart, in
//     deafStrikes watches in a row.
//
// A receiver found hearing starts a new watch, so one that goes deaf
// mid-push (a group aged out) is found within a few watches.
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
	half := deafGrace
	if p.state == protocol.StateJoined {
		half = deafGraceManifest
	}
	switch {
	case w == nil:
		s.watches[p.id] = &deafWatch{at: now, group: group, shards: shards, counts: m.counts}
		return
	case w.mid.IsZero():
		if now.Sub(w.at) >= half && s.judgeable(p.state, group-w.group, shards-w.shards) {
			w.mid, w.midGroup, w.midShards = now, group, shards
		}
		return
	case now.Sub(w.mid) < half:
		// Well inside the second half (half of it past the middle): the
		// status came long after the manifest went out.
		if p.state == protocol.StateJoined && now.Sub(w.mid) >= half/2 && s.asksWholeManifest(m) {
			w.askedWholeManifest = true
		}
		return
	}
	deaf := false
	if s.judgeable(p.state, w.midGroup-w.group, w.midShards-w.shards) {
		switch p.state {
		case protocol.StateJoined:
			deaf = w.askedWholeManifest || s.asksWholeManifest(m)
		case protocol.StateReceiving:
			d, heard := m.counts.since(w.counts), deafHeardShare*float64(w.midShards-w.shards)
			deaf = float64(d.received) < heard && float64(d.overflow) < heard
		}
	}
	next := &deafWatch{at: now, group: group, shards: shards, counts: m.counts}
	if !deaf {
		s.watches[p.id] = next
		return
	}
	if p.state == protocol.StateReceiving && w.strikes+1 < deafStrikes {
		// A receiver starved of CPU can read nothing for a while and look
		// deaf: it must look so for deafStrikes watches in a row.
		next.strikes = w.strikes + 1
		s.watches[p.id] = next
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

// judgeable reports whether enough went to the data group for a receiver
// in state to be judged: deafManifestCopies manifests' worth of datagrams
// without the manifest (at most MaxNacks chunks a copy: a resend brings
// what one status asks for), deafMinShards data shards while receiving.
// The first half of a watch lasts until it is (at a low rate, longer
// than deafGrace).
func (s *sender) judgeable(state byte, group, shards int64) bool {
	switch state {
	case protocol.StateJoined:
		return group >= deafManifestCopies*min(int64(s.announce.ManifestParts), protocol.MaxNacks)
	case protocol.StateReceiving:
		return shards >= deafMinShards
	}
	return false
}

// asksWholeManifest reports whether status m asks for every manifest
// chunk (or MaxNacks of them).
func (s *sender) asksWholeManifest(m statusMsg) bool {
	return manifestNacks(m.nacks) >= min(int64(s.announce.ManifestParts), protocol.MaxNacks)
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
