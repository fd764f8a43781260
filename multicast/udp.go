package multicast

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/net/ipv4"
)

// UDPNetwork opens real UDP multicast sockets.
//
// Concurrency: safe for concurrent use.
type UDPNetwork struct {
	cfg Config
}

// NewUDP checks cfg and that an interface to join on exists now, so a bad
// --iface fails at start-up rather than at the first Listen.
func NewUDP(cfg Config) (Network, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if _, err := planInterfaces(cfg.Iface); err != nil {
		return nil, err
	}
	return &UDPNetwork{cfg: cfg}, nil
}

// Listen opens a socket bound to group, joins it on the configured
// interfaces and sets TTL, loopback and egress interface. Interfaces are
// resolved again on every Listen, so ones brought up later are used.
func (n *UDPNetwork) Listen(group netip.AddrPort) (Conn, error) {
	group, err := validGroup(group)
	if err != nil {
		return nil, err
	}
	plan, err := planInterfaces(n.cfg.Iface)
	if err != nil {
		return nil, err
	}
	plan.egress = plan.egressFor(group.Addr().Is6())
	var scope *net.Interface
	if len(plan.join) == 1 {
		scope = &plan.join[0]
	}
	sock, err := openGroupSocket(group, scope, n.cfg.RecvBuffer, n.cfg.SendBuffer)
	if err != nil {
		return nil, err
	}
	c := &UDPConn{
		pc:        sock.pc,
		fam:       newFamily(sock.pc, group.Addr().Is6()),
		group:     group,
		local:     netip.AddrPortFrom(sourceAddr(plan.egress, group.Addr().Is6()), group.Port()),
		buffers:   sock.buffers,
		filterDst: sock.filterDst,
		gro:       sock.gro,
	}
	if err := n.setup(c, plan); err != nil {
		c.pc.Close()
		return nil, err
	}
	warnIfClamped(n.cfg.Logger, c.buffers)
	return c, nil
}

// setup joins the group and sets the sending options. A join failure on
// one of several interfaces (no address, driver without multicast) is
// logged; failing on all of them is an error.
func (n *UDPNetwork) setup(c *UDPConn, plan interfacePlan) error {
	groupAddr := &net.UDPAddr{IP: c.group.Addr().AsSlice()}
	joined := 0
	var lastErr error
	for i := range plan.join {
		ifi := &plan.join[i]
		if err := c.fam.JoinGroup(ifi, groupAddr); err != nil {
			lastErr = fmt.Errorf("join %v on %s: %w", c.group.Addr(), ifi.Name, err)
			n.cfg.Logger.Warn("multicast: cannot join group on interface", "group", c.group, "iface", ifi.Name, "err", err)
			continue
		}
		joined++
	}
	if joined == 0 {
		return fmt.Errorf("multicast: %w: %w", ErrNoMulticastInterface, lastErr)
	}
	steps := []struct {
		what string
		do   func() error
	}{
		{"set egress interface " + plan.egress.Name, func() error { return c.fam.SetMulticastInterface(&plan.egress) }},
		{fmt.Sprintf("set TTL %d", n.cfg.TTL), func() error { return c.fam.setHops(n.cfg.TTL) }},
		{"set multicast loopback", func() error { return c.fam.SetMulticastLoopback(!n.cfg.DisableLoopback) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return classifySocketError(s.what+" for", c.group, err)
		}
	}
	if c.filterDst {
		if err := c.fam.enableDst(); err != nil {
			// Still correct where the OS filters by membership (BSD).
			n.cfg.Logger.Warn("multicast: no destination address on received datagrams; relying on the OS to filter groups",
				"group", c.group, "err", err)
			c.filterDst = false
		}
	}
	return nil
}

// UDPConn is a real UDP socket joined to one group. Listen on a
// UDPNetwork returns *UDPConn as its Conn.
//
// Concurrency: one goroutine may call ReadBatch while others call
// WriteBatch, LocalAddr, Buffers and Close.
type UDPConn struct {
	pc        net.PacketConn
	fam       family
	group     netip.AddrPort
	local     netip.AddrPort
	buffers   Buffers
	filterDst bool
	closed    atomic.Bool

	// read is reused by the single reader, so ReadBatch does not allocate
	// its message headers.
	read batchScratch
	// writes holds *batchScratch for concurrent writers.
	writes sync.Pool
	gso    gsoState
	gro    bool
	groRd  groReader
}

// batchScratch holds x/net message headers and their one-element buffer
// lists, so building a batch allocates nothing once warmed up.
type batchScratch struct {
	msgs   []ipv4.Message
	bufs   [][1][]byte
	gsoBuf []byte // one GSO train (Linux)
}

// prepare returns n headers whose Buffers point at the caller's slices.
func (s *batchScratch) prepare(n int, buf func(i int) []byte) []ipv4.Message {
	if cap(s.msgs) < n {
		s.msgs = make([]ipv4.Message, n)
		s.bufs = make([][1][]byte, n)
	}
	s.msgs = s.msgs[:n]
	for i := range n {
		s.bufs[i][0] = buf(i)
		s.msgs[i] = ipv4.Message{Buffers: s.bufs[i][:]}
	}
	return s.msgs
}

// release drops references to caller memory so the pool does not pin it.
func (s *batchScratch) release() {
	for i := range s.msgs {
		s.bufs[i][0] = nil
		s.msgs[i] = ipv4.Message{}
	}
}

// Group is the group this Conn receives.
func (c *UDPConn) Group() netip.AddrPort { return c.group }

// LocalAddr implements Conn.
func (c *UDPConn) LocalAddr() netip.AddrPort { return c.local }

// Buffers reports the socket buffer sizes the OS granted.
func (c *UDPConn) Buffers() Buffers { return c.buffers }

// Dropped implements DropCounter: datagrams the kernel dropped at this
// socket's full receive buffer (Linux; false elsewhere).
func (c *UDPConn) Dropped() (uint64, bool) { return c.socketDrops() }

// Close implements Conn; calls after the first return nil.
func (c *UDPConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	return c.pc.Close()
}

// ReadBatch implements Conn.
func (c *UDPConn) ReadBatch(ms []Message) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	n, err := c.readBatch(ms)
	if err != nil {
		if c.closed.Load() || errors.Is(err, net.ErrClosed) {
			return 0, fmt.Errorf("multicast: read %v: %w", c.group, net.ErrClosed)
		}
		return n, fmt.Errorf("multicast: read %v: %w", c.group, err)
	}
	return n, nil
}

// WriteUnicastBatch sends each payload as one datagram to dst, a unicast
// address of the socket's family, the way WriteBatch sends to its group
// (GSO trains where the kernel takes them, else sendmmsg), from the same
// socket and so the same source address. A push's unicast fallback
// (SPEC.md §6.11) copies every data batch to a receiver this way: one
// system call a datagram, as a plain socket needs, made the copies cost
// the sender more than the multicast stream itself.
func (c *UDPConn) WriteUnicastBatch(payloads [][]byte, dst netip.AddrPort) (int, error) {
	addr := dst.Addr().Unmap()
	if !addr.IsValid() || addr.IsMulticast() || addr.IsUnspecified() || dst.Port() == 0 || addr.Is6() != c.group.Addr().Is6() {
		return 0, fmt.Errorf("multicast: unicast send to %v from a socket of group %v: not a unicast address of its family", dst, c.group)
	}
	if len(payloads) == 0 {
		return 0, nil
	}
	n, err := c.writeBatch(payloads, udpAddrOf(netip.AddrPortFrom(addr, dst.Port())))
	if err != nil && (c.closed.Load() || errors.Is(err, net.ErrClosed)) {
		return n, fmt.Errorf("multicast: send to %v: %w", dst, net.ErrClosed)
	}
	return n, err
}

// WriteBatch implements Conn. dst must be a group of the same IP family.
func (c *UDPConn) WriteBatch(payloads [][]byte, dst netip.AddrPort) (int, error) {
	dst, err := validGroup(dst)
	if err != nil {
		return 0, err
	}
	if dst.Addr().Is6() != c.group.Addr().Is6() {
		return 0, fmt.Errorf("multicast: send to %v from a socket of group %v: %w: IP families differ", dst, c.group, ErrNotMulticastGroup)
	}
	if len(payloads) == 0 {
		return 0, nil
	}
	n, err := c.writeBatch(payloads, udpAddrOf(dst))
	if err != nil {
		if c.closed.Load() || errors.Is(err, net.ErrClosed) {
			return n, fmt.Errorf("multicast: send to %v: %w", dst, net.ErrClosed)
		}
		return n, fmt.Errorf("multicast: send to %v: %w", dst, err)
	}
	return n, nil
}
