package presence

import (
	"crypto/rand"
	"slices"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Channel membership (SPEC.md §5.4): after every regular beacon a node
// that holds channels sends Membership packets whose tags only members
// of each channel can make or recognise. The peer table records, per
// peer, when it last proved each of our channels.

// sendMembership sends one Membership per MaxMembershipTags of the
// channels this node holds (none when it holds only the open channel).
func (p *Presence) sendMembership() error {
	channels := p.node.Channels.List()
	for start := 0; start < len(channels); start += protocol.MaxMembershipTags {
		part := channels[start:min(start+protocol.MaxMembershipTags, len(channels))]
		env := p.node.Signer.Next()
		m := protocol.Membership{Tags: make([][protocol.MembershipTagLen]byte, 0, padded(len(part)))}
		for _, c := range part {
			key := c.Key(identity.PurposePresence)
			m.Tags = append(m.Tags, protocol.MembershipTag(&key, env))
		}
		for len(m.Tags) < cap(m.Tags) {
			var t [protocol.MembershipTagLen]byte
			rand.Read(t[:]) // indistinguishable from a tag of a channel one does not hold
			m.Tags = append(m.Tags, t)
		}
		pkt := p.node.Signer.AppendWith(make([]byte, 0, protocol.SignedLen(m)), env, m)
		if err := p.node.Send(pkt); err != nil {
			return err
		}
	}
	return nil
}

// padded rounds n up to a multiple of MembershipPad.
func padded(n int) int {
	return (n + protocol.MembershipPad - 1) / protocol.MembershipPad * protocol.MembershipPad
}

// handleMembership records which of our channels a known peer proved it
// holds. A Membership from a peer not in the table is ignored: its next
// one, after its beacon, counts.
func (p *Presence) handleMembership(pkt node.Packet) {
	v, err := protocol.ParseMembership(pkt.Body)
	if err != nil {
		p.node.Logger.Debug("presence: bad membership", "src", pkt.Src, "err", err)
		return
	}
	p.mu.Lock()
	_, known := p.peers[pkt.Sender]
	p.mu.Unlock()
	if !known {
		return
	}
	var held [][8]byte
	for _, c := range p.node.Channels.List() {
		key := c.Key(identity.PurposePresence)
		if v.Holds(protocol.MembershipTag(&key, pkt.Envelope)) {
			held = append(held, c.ID())
		}
	}
	if len(held) == 0 {
		return
	}
	now := p.node.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.peers[pkt.Sender]
	if !ok {
		return
	}
	if e.channels == nil {
		e.channels = make(map[[8]byte]time.Time)
	}
	for _, id := range held {
		e.channels[id] = now // bounded: only channels we hold get here
	}
}

// channelsLocked names the channels e proved within the expiry and that
// we still hold, dropping the ones it stopped proving.
func (p *Presence) channelsLocked(e *entry) []string {
	var names []string
	deadline := p.node.Now().Add(-p.tuning.expire)
	for id, seen := range e.channels {
		c, ok := p.node.Channels.ByID(id)
		if !ok || seen.Before(deadline) {
			delete(e.channels, id)
			continue
		}
		names = append(names, c.Name)
	}
	slices.Sort(names)
	return names
}
