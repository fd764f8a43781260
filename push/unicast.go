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
// (unicast_switch.go). Batches the sender writes to the data group are
// also sent to each such receiver by unicast, in the same call: all of
// them outside the first pass, a share of the first pass's windows
// during it, the rest in a unicast pass after it (unicast_share.go).
// Control packets reach a deaf receiver through the node's own copies
// (announce, grant, end).
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

	// unicast_share.go: the first pass's share of data copies, and
	// whether the group write is skipped (only unicast receivers left).
	firstPass            bool
	copyTokens           float64
	inWindow, copyWindow bool
	passDue              []int // first-pass windows (first block) the unicast pass owes; at most one per window
	groupIdle            bool
	idleBytes            int64 // data-group bytes sent by unicast alone while the group was idle
	skipped              int64 // data shards of the first pass not copied
	// firstPassShards is dataN when the first pass ended.
	firstPassShards int64
}

type mirrorTarget struct {
	fp   string // fingerprint, as the report names receivers
	addr netip.AddrPort
}

func newUnicastMirror(c multicast.Conn, n *node.Node, data netip.AddrPort) *unicastMirror {
	return &unicastMirror{Conn: c, n: n, data: data, served: make(map[string]int64), copies: newStatusCopies(), firstPass: true}
}

// WriteBatch writes to the group, then, for the data group, the same
// datagrams to every receiver served by unicast.
func (m *unicastMirror) WriteBatch(payloads [][]byte, dst netip.AddrPort) (int, error) {
	if dst != m.data {
		return m.Conn.WriteBatch(payloads, dst)
	}
	m.mu.Lock()
	idle := m.groupIdle
	m.mu.Unlock()
	k, err := len(payloads), error(nil)
	if !idle { // unicast_share.go: with only unicast receivers left, the group gets nothing
		k, err = m.Conn.WriteBatch(payloads, dst)
	}
	if k == 0 {
		return k, err
	}
	shards, bytes := 0, int64(0)
	for _, p := range payloads[:k] {
		if len(p) > 5 && protocol.Type(p[5]) == protocol.TypeData { // header: magic, version, type (§3)
			shards++
		}
		bytes += int64(len(p))
	}
	m.mu.Lock()
	m.groupN += int64(k)
	m.dataN += int64(shards)
	if idle {
		m.idleBytes += bytes
	}
	share := m.shareBatch()
	if !share {
		m.skipped += int64(shards)
	}
	m.mu.Unlock()
	if !share {
		return k, err
	}
	for _, t := range m.current() {
		bytes := m.copyTo(payloads[:k], t.addr)
		m.mu.Lock()
		m.served[t.fp] += bytes
		m.mu.Unlock()
	}
	return k, err
}

// unicastBatcher is a data socket that also writes batches to a unicast
// address (multicast.UDPConn): the copies then cost what the multicast
// write does, not a system call a datagram.
type unicastBatcher interface {
	WriteUnicastBatch(payloads [][]byte, dst netip.AddrPort) (int, error)
}

// copyTo sends payloads to one receiver by unicast and returns the bytes
// that went: in batches from the data socket when it can, else one by
// one from the node's unicast socket.
func (m *unicastMirror) copyTo(payloads [][]byte, addr netip.AddrPort) int64 {
	var bytes int64
	if b, ok := m.Conn.(unicastBatcher); ok {
		n, _ := b.WriteUnicastBatch(payloads, addr)
		for _, p := range payloads[:max(n, 0)] {
			bytes += int64(len(p))
		}
		if n == len(payloads) {
			return bytes
		}
		payloads = payloads[max(n, 0):]
	}
	for _, p := range payloads {
		if m.n.SendTo(p, addr) != nil {
			break
		}
		bytes += int64(len(p))
	}
	return bytes
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
// (or "multicast" for every receiver when it is not one), and returns the
// bytes counted as written to the group that went only by unicast (the
// group was idle, unicast_share.go).
func annotatePaths(c multicast.Conn, rs []ReceiverReport) (unicastOnly int64) {
	m, _ := c.(*unicastMirror)
	if m != nil {
		m.mu.Lock()
		unicastOnly = m.idleBytes
		m.mu.Unlock()
	}
	for i := range rs {
		rs[i].Path, rs[i].UnicastBytes = m.path(rs[i].Fingerprint)
		if rs[i].Path == "unicast" {
			// What the first pass's share never sent it is not loss.
			rs[i].Loss = max(0, rs[i].Loss-m.skippedShare())
		}
	}
	return unicastOnly
}
