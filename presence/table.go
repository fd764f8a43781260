package presence

import (
	"cmp"
	"crypto/ed25519"
	"errors"
	"slices"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// handle records one beacon; it reports whether the sender is a peer this
// table did not know.
func (p *Presence) handle(pkt node.Packet) (newPeer bool) {
	b, err := protocol.ParseBeacon(pkt.Body)
	if err != nil {
		p.node.Logger.Debug("presence: bad beacon", "src", pkt.Src, "err", err)
		return false
	}
	if pkt.Sender == [protocol.SenderLen]byte(p.node.ID.SignPub) {
		return false // another process of this identity; not a peer
	}
	if b.Flags&protocol.BeaconLeaving != 0 {
		p.leave(pkt.Sender, b.Offers)
		return false
	}
	pub := ed25519.PublicKey(pkt.Sender[:])
	// Names are labels: any number of keys may use one. The store says
	// Changed only when an untrusted key claims a trusted peer's name.
	state, err := p.node.Trust.Observe(b.Name, pub, b.BoxKey)
	if err != nil && !errors.Is(err, identity.ErrKeyChanged) {
		p.node.Logger.Debug("presence: beacon refused", "src", pkt.Src, "err", err)
		return false
	}
	name := b.Name

	p.mu.Lock()
	e, known := p.peers[pkt.Sender]
	if !known {
		p.makeRoomLocked()
		e = &entry{info: PeerInfo{
			Fingerprint: identity.Fingerprint(pub),
			SignPub:     slices.Clone(pub),
		}}
		p.peers[pkt.Sender] = e
	}
	becameChanged := state == identity.Changed && !e.changed
	e.changed = e.changed || state == identity.Changed
	e.info.Name, e.info.BoxPub, e.info.Addr = name, b.BoxKey, pkt.Src
	e.info.LastSeen = p.node.Now()
	e.noteOffers(b.Offers, false, e.info.LastSeen, p.tuning.expire)
	if !pkt.Unicast {
		e.multicastSeen = e.info.LastSeen
	}
	e.info.UnicastOnly = e.multicastSeen.IsZero() || e.info.LastSeen.Sub(e.multicastSeen) > p.tuning.expire
	if state == identity.Trusted {
		p.trustDirty = true // a pinned key may have shown itself
	}
	info := p.infoLocked(e)
	p.mu.Unlock()

	if becameChanged {
		p.node.Logger.Warn("presence: a key claims a trusted peer's name; it may be an impostor, never shown as that peer",
			"name", b.Name, "fingerprint", info.Fingerprint, "addr", pkt.Src, "err", err)
		p.emit(Event{Kind: Changed, Peer: info})
	} else if !known {
		p.emit(Event{Kind: Joined, Peer: info})
	}
	return !known
}

// makeRoomLocked evicts the peer seen longest ago when the table is full.
// Linear, but only runs when a new peer arrives at a full table.
func (p *Presence) makeRoomLocked() {
	if len(p.peers) < p.tuning.maxPeers {
		return
	}
	var oldestKey [protocol.SenderLen]byte
	var oldest *entry
	for k, e := range p.peers {
		if oldest == nil || e.info.LastSeen.Before(oldest.info.LastSeen) {
			oldestKey, oldest = k, e
		}
	}
	delete(p.peers, oldestKey)
	p.emit(Event{Kind: Left, Peer: p.infoLocked(oldest)})
}

// leave handles a leaving beacon: the process that sent it withdraws its
// offers, and the peer is dropped unless another of its processes still
// offers something (a student stops listen but receive runs on).
func (p *Presence) leave(key [protocol.SenderLen]byte, offers byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.peers[key]; ok {
		if e.noteOffers(offers, true, p.node.Now(), p.tuning.expire) {
			return
		}
		delete(p.peers, key)
		p.emit(Event{Kind: Left, Peer: p.infoLocked(e)})
	}
}

// expire removes peers silent for longer than the expiry.
func (p *Presence) expire() {
	deadline := p.node.Now().Add(-p.tuning.expire)
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, e := range p.peers {
		if e.info.LastSeen.Before(deadline) {
			delete(p.peers, k)
			p.emit(Event{Kind: Left, Peer: p.infoLocked(e)})
		}
	}
}

// infoLocked copies e with its current trust and label. Trust follows
// the trust store at the time of the query (so `herald trust` shows at
// once); a key once seen claiming a trusted peer's name stays Changed
// unless the user trusts that very key.
func (p *Presence) infoLocked(e *entry) PeerInfo {
	info := e.info
	info.SignPub = slices.Clone(e.info.SignPub)
	rec, ok := p.node.Trust.Lookup(info.SignPub)
	switch {
	case ok && rec.Trusted:
		info.Trust = TrustTrusted
	case e.changed || (ok && rec.Impostor):
		info.Trust = TrustChanged
	default:
		info.Trust = TrustSeen
	}
	info.Label = p.node.Trust.Label(info.SignPub, info.Name)
	info.Channels = p.channelsLocked(e)
	return info
}

// emit queues an event, dropping it when nobody keeps up. It never
// blocks, so callers may hold p.mu.
func (p *Presence) emit(ev Event) {
	select {
	case p.events <- ev:
	default:
	}
}

// Peers returns the live peers sorted by name, then fingerprint.
func (p *Presence) Peers() []PeerInfo {
	p.mu.Lock()
	peers := make([]PeerInfo, 0, len(p.peers))
	for _, e := range p.peers {
		peers = append(peers, p.infoLocked(e))
	}
	p.mu.Unlock()
	slices.SortFunc(peers, func(a, b PeerInfo) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Fingerprint, b.Fingerprint))
	})
	return peers
}

// Lookup returns the live peer with signing key pub.
func (p *Presence) Lookup(pub ed25519.PublicKey) (PeerInfo, bool) {
	if len(pub) != protocol.SenderLen {
		return PeerInfo{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.peers[[protocol.SenderLen]byte(pub)]
	if !ok {
		return PeerInfo{}, false
	}
	return p.infoLocked(e), true
}
