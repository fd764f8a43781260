package push

import (
	"crypto/ed25519"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/herald-lan/herald/identity"
	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/node"
	"github.com/herald-lan/herald/protocol"
)

// Unicast fallback of a push (SPEC.md §6.11). A receiver that does not
// hear the sender's multicast at all says so in its unicast beacons
// (§5.2); the sender's node then knows it as deaf. A receiver that hears
// the control group but not the data group is found by its statuses
// (unicast_switch.go). Every batch the sender writes to the data group is
// also sent to each such receiver by unicast, in the same call, so the
// copies leave at the multicast stream's pace: the multicast receivers
// are not slowed, and the unicast receiver gets the stream at the push's
// rate. Control packets reach a deaf receiver through the node's own
// copies (announce, grant, end).
const (
	// mirrorRefresh is how often the deaf peers are looked up again.
	mirrorRefresh = 250 * time.Millisecond
)

// unicastMirror wraps the sender's write connection. Safe for concurrent
// use as multicast.Conn is.
type unicastMirror struct {
	multicast.Conn
	n    *node.Node
	data netip.AddrPort

	mu        sync.Mutex
	targets   []mirrorTarget
	refreshed time.Time
	served    map[string]int64 // wire bytes sent by unicast, per receiver fingerprint
	switched  []mirrorTarget   // receivers the sender moved to unicast by their statuses
	groupN    int64            // datagrams written to the data group
	dataN     int64            // of which data shards

	copies statusCopies // unicast_feedback.go
}

type mirrorTarget struct {
	fp   string // fingerprint, as the report names receivers
	addr netip.AddrPort
}

func newUnicastMirror(c multicast.Conn, n *node.Node, data netip.AddrPort) *unicastMirror {
	return &unicastMirror{Conn: c, n: n, data: data, served: make(map[string]int64), copies: newStatusCopies()}
}

// WriteBatch writes to the group, then, for the data group, the same
// datagrams to every receiver served by unicast.
func (m *unicastMirror) WriteBatch(payloads [][]byte, dst netip.AddrPort) (int, error) {
	k, err := m.Conn.WriteBatch(payloads, dst)
	if dst != m.data || k == 0 {
		return k, err
	}
	shards := 0
	for _, p := range payloads[:k] {
		if len(p) > 5 && protocol.Type(p[5]) == protocol.TypeData { // header: magic, version, type (§3)
			shards++
		}
	}
	m.mu.Lock()
	m.groupN += int64(k)
	m.dataN += int64(shards)
	m.mu.Unlock()
	for _, t := range m.current() {
		var bytes int64
		for _, p := range payloads[:k] {
			if m.n.SendTo(p, t.addr) != nil {
				break
			}
			bytes += int64(len(p))
		}
		m.mu.Lock()
		m.served[t.fp] += bytes
		m.mu.Unlock()
	}
	return k, err
}

// written is how many datagrams, and how many data shards, went to the
// data group so far.
func (m *unicastMirror) written() (group, shards int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.groupN, m.dataN
}

// serve adds a receiver to those served by unicast; it reports false
// when it already was, or when MaxDeafPeers are (§5.2's bound).
func (m *unicastMirror) serve(fp string, addr netip.AddrPort) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.switched) >= node.MaxDeafPeers || slices.ContainsFunc(m.switched, func(t mirrorTarget) bool { return t.fp == fp }) {
		return false
	}
	m.switched = append(m.switched, mirrorTarget{fp, addr})
	m.refreshed = time.Time{} // in the next batch already
	return true
}

// current returns the receivers served by unicast: those the sender
// moved there, and the node's deaf peers, looked up at most every
// mirrorRefresh. One address is served once.
func (m *unicastMirror) current() []mirrorTarget {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now := time.Now(); now.Sub(m.refreshed) >= mirrorRefresh {
		m.refreshed = now
		m.targets = append(m.targets[:0], m.switched...)
		for _, r := range m.n.Reach() {
			if !r.Deaf || !r.Addr.IsValid() || len(m.targets) >= node.MaxDeafPeers {
				continue
			}
			fp := identity.Fingerprint(ed25519.PublicKey(r.Sender[:]))
			if !slices.ContainsFunc(m.targets, func(t mirrorTarget) bool { return t.fp == fp || t.addr == r.Addr }) {
				m.targets = append(m.targets, mirrorTarget{fp, r.Addr})
			}
		}
	}
	return slices.Clone(m.targets)
}

// path says how a receiver was served: "unicast" if any data went to it
// by unicast, else "multicast".
func (m *unicastMirror) path(fp string) (string, int64) {
	if m == nil {
		return "multicast", 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b, ok := m.served[fp]; ok && b > 0 {
		return "unicast", b
	}
	return "multicast", 0
}

// annotatePaths fills in each receiver's Path from the mirror that c is
// (or "multicast" for every receiver when it is not one).
func annotatePaths(c multicast.Conn, rs []ReceiverReport) {
	m, _ := c.(*unicastMirror)
	for i := range rs {
		rs[i].Path, rs[i].UnicastBytes = m.path(rs[i].Fingerprint)
	}
}
