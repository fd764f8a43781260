package multicast

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
)

// MemNet is an in-memory multicast network for tests and simulations.
// Datagrams written to a group fan out to every Conn listening on it, on
// every host including the sender's (like IP_MULTICAST_LOOP), each copy
// impaired by the receiving host's Link. All random decisions come from
// one RNG seeded by NewMemNet and are drawn in send order, so a run with
// the same seed and the same sequence of writes loses, duplicates and
// delivers the same datagrams, in the same order unless Reorder is used
// (a reordered datagram waits for its successor at most 1 ms of wall
// time, so its final position can depend on scheduling).
//
// Writers never block: a full receive queue drops. Readers block until a
// datagram arrives or their Conn is closed.
//
// Concurrency: MemNet, MemHost and MemConn are safe for concurrent use as
// Conn documents.
type MemNet struct {
	mu     sync.Mutex
	rng    *rand.Rand
	hosts  int
	groups map[netip.AddrPort][]*MemConn
	stats  MemStats

	queueDropped atomic.Uint64 // counted under MemConn.mu, not mu
}

// MemStats counts datagrams over a MemNet's lifetime. One written payload
// with k receivers counts once in Sent and up to k times in the others.
type MemStats struct {
	Sent         uint64 // payloads written
	Delivered    uint64 // copies that survived the link, incl. ones then dropped at a full queue
	Lost         uint64 // copies removed by Loss or a burst
	Duplicated   uint64 // extra copies made by Duplicate
	Reordered    uint64 // copies held back by Reorder
	QueueDropped uint64 // copies dropped at a full receive queue
}

// NewMemNet returns an empty network whose impairments are drawn from a
// RNG seeded with seed.
func NewMemNet(seed int64) *MemNet {
	return &MemNet{
		rng:    rand.New(rand.NewPCG(uint64(seed), 0x6865726c64)),
		groups: make(map[netip.AddrPort][]*MemConn),
	}
}

// Stats returns the counters so far.
func (m *MemNet) Stats() MemStats {
	m.mu.Lock()
	s := m.stats
	m.mu.Unlock()
	s.QueueDropped = m.queueDropped.Load()
	return s
}

// memHostBase4 and memHostBase6 are the benchmarking ranges (RFC 2544,
// RFC 5180) from which hosts get their addresses: host N is 198.18.0.0+N
// and 2001:2::N.
var (
	memHostBase4 = netip.AddrFrom4([4]byte{198, 18, 0, 0})
	memHostBase6 = netip.MustParseAddr("2001:2::")
)

// memHostMax keeps host addresses inside 198.18.0.0/15.
const memHostMax = 1<<17 - 2

// MemHost is one machine on a MemNet. It implements Network.
//
// Concurrency: safe for concurrent use.
type MemHost struct {
	net          *MemNet
	addr4, addr6 netip.Addr
	link         Link // guarded by net.mu
}

// Host adds a machine whose receiving side applies link. Hosts are
// numbered from 1 in creation order; host N has address 198.18.0.0+N
// (and 2001:2::N for IPv6 groups). It panics after 131070 hosts, the
// size of 198.18.0.0/15.
func (m *MemNet) Host(link Link) *MemHost {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hosts >= memHostMax {
		panic("multicast: MemNet host addresses exhausted (198.18.0.0/15)")
	}
	m.hosts++
	n := uint32(m.hosts)
	b4 := memHostBase4.As4()
	binary.BigEndian.PutUint32(b4[:], binary.BigEndian.Uint32(b4[:])+n)
	b6 := memHostBase6.As16()
	binary.BigEndian.PutUint32(b6[12:], n)
	return &MemHost{net: m, addr4: netip.AddrFrom4(b4), addr6: netip.AddrFrom16(b6), link: link.normalized()}
}

// Addr is the host's IPv4 address, the Src of its IPv4 datagrams.
func (h *MemHost) Addr() netip.Addr { return h.addr4 }

// SetLink replaces the host's impairments for datagrams delivered from
// now on; Link{Loss: 1} simulates a total outage.
func (h *MemHost) SetLink(link Link) {
	h.net.mu.Lock()
	h.link = link.normalized()
	h.net.mu.Unlock()
}

// Listen implements Network.
func (h *MemHost) Listen(group netip.AddrPort) (Conn, error) {
	group, err := validGroup(group)
	if err != nil {
		return nil, err
	}
	srcAddr := h.addr4
	if group.Addr().Is6() {
		srcAddr = h.addr6
	}
	c := &MemConn{
		host:   h,
		group:  group,
		local:  netip.AddrPortFrom(srcAddr, group.Port()),
		notify: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	m := h.net
	m.mu.Lock()
	m.groups[group] = append(m.groups[group], c)
	m.mu.Unlock()
	return c, nil
}

// send fans payloads out to dst's listeners. Each payload is copied once;
// receivers share the copy read-only.
func (m *MemNet) send(from *MemConn, payloads [][]byte, dst netip.AddrPort) {
	src := from.local
	if dst.Addr().Is6() != src.Addr().Is6() {
		src = from.host.addrFor(dst.Addr(), src.Port())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	receivers := m.groups[dst]
	m.stats.Sent += uint64(len(payloads))
	if len(receivers) == 0 {
		return
	}
	for _, p := range payloads {
		d := memDatagram{data: slices.Clone(p), src: src}
		for _, rc := range receivers {
			f := rc.loss.decide(rc.host.link, m.rng)
			if f.lost {
				m.stats.Lost++
				continue
			}
			m.stats.Delivered += uint64(f.copies)
			m.stats.Duplicated += uint64(f.copies - 1)
			if f.reordered {
				m.stats.Reordered++
			}
			rc.deliver(d, f, rc.host.link.QueueLen)
		}
	}
}

func (h *MemHost) addrFor(dst netip.Addr, port uint16) netip.AddrPort {
	if dst.Is6() {
		return netip.AddrPortFrom(h.addr6, port)
	}
	return netip.AddrPortFrom(h.addr4, port)
}

// leave removes c from its group's listeners.
func (m *MemNet) leave(c *MemConn) {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := slices.DeleteFunc(m.groups[c.group], func(x *MemConn) bool { return x == c })
	if len(list) == 0 {
		delete(m.groups, c.group)
		return
	}
	m.groups[c.group] = list
}

// String names the host for test failures.
func (h *MemHost) String() string { return fmt.Sprintf("memhost(%v)", h.addr4) }
