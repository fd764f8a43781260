package node

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/herald-lan/herald/multicast"
	"github.com/herald-lan/herald/protocol"
)

// openUnicastLocked opens the unicast socket once, next to the control
// connection conn (SPEC.md §5.2): on the address peers see as our
// source, at the control port, or at any free port when another process
// of this host holds it. n.mu is held. A failure is logged, not
// returned: the group still works without it.
func (n *Node) openUnicastLocked(conn multicast.Conn) {
	if n.ucast != nil || !n.unicastOn {
		return
	}
	want := n.unicastAt
	if !want.IsValid() {
		want = netip.AddrPortFrom(conn.LocalAddr().Addr(), n.Control.Port())
	}
	uc, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(want))
	if errors.Is(err, syscall.EADDRINUSE) && want.Port() != 0 {
		uc, err = net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(want.Addr(), 0)))
	}
	if err != nil {
		n.Logger.Warn("node: no unicast socket; static peers and unicast fallback are off", "addr", want, "err", err)
		n.unicastOn = false
		return
	}
	// Room for a probe burst or a fan-out while the reader verifies
	// signatures; the kernel clamps it to net.core.rmem_max.
	_ = uc.SetReadBuffer(multicast.DefaultRecvBuffer)
	n.ucast = uc
}

// UnicastAddr is where this Node receives unicast (zero before the
// control group is joined, or when it has no unicast socket).
func (n *Node) UnicastAddr() netip.AddrPort {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.ucast == nil {
		return netip.AddrPort{}
	}
	return n.ucast.LocalAddr().(*net.UDPAddr).AddrPort()
}

// unicastConn returns the unicast socket, opening the control group (and
// with it the socket) if needed; nil when the Node has none.
func (n *Node) unicastConn() (*net.UDPConn, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.state == closed {
		return nil, ErrClosed
	}
	if _, err := n.controlLocked(); err != nil {
		return nil, err
	}
	return n.ucast, nil
}

// SendTo sends one complete packet by unicast to dst. It fails when the
// Node has no unicast socket.
func (n *Node) SendTo(pkt []byte, dst netip.AddrPort) error {
	if len(pkt) > protocol.MaxDatagram {
		return fmt.Errorf("node: send %d bytes: %w", len(pkt), protocol.ErrTooLarge)
	}
	uc, err := n.unicastConn()
	if err != nil {
		return err
	}
	if uc == nil {
		return fmt.Errorf("%w: no unicast socket", ErrNetwork)
	}
	if _, err := uc.WriteToUDPAddrPort(pkt, dst); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return ErrClosed
		}
		n.stats.unicastFailed.Add(1)
		return fmt.Errorf("node: send to %s: %w", dst, err)
	}
	n.stats.unicastSent.Add(1)
	return nil
}

// fanOut sends pkt by unicast to every peer that asked for it (it does
// not hear our multicast) and returns how many copies went out. Failures
// are logged and counted, not returned: the multicast copy is the one the
// caller asked for.
func (n *Node) fanOut(pkt []byte) (sent int) {
	if !n.unicastOn {
		return 0
	}
	for _, dst := range n.uni.deafPeers(n.now()) {
		if err := n.SendTo(pkt, dst); err != nil {
			n.Logger.Debug("node: unicast copy not sent", "to", dst, "err", err)
			continue
		}
		sent++
	}
	return sent
}

// SendBeacon multicasts b, signed, and sends unicast copies where SPEC.md
// §5.2 says: static peers, peers heard only by unicast or that asked for
// it, and, once, newcomers heard on the group. A copy is flagged
// BeaconUnicastWanted when its receiver is not heard on the group. Only
// the multicast send's error is returned.
func (n *Node) SendBeacon(b protocol.Beacon) error {
	pkt, _ := n.Signer.Append(make([]byte, 0, protocol.SignedLen(b)), b)
	err := n.sendGroup(pkt)
	if !n.unicastOn || errors.Is(err, ErrClosed) {
		return err
	}
	for _, t := range n.uni.beaconTargets(n.now()) {
		copyOf := b
		if t.wanted {
			copyOf.Flags |= protocol.BeaconUnicastWanted
		}
		one, _ := n.Signer.Append(make([]byte, 0, protocol.SignedLen(copyOf)), copyOf)
		if uerr := n.SendTo(one, t.dst); uerr != nil {
			n.Logger.Debug("node: unicast beacon not sent", "to", t.dst, "err", uerr)
		}
	}
	n.uni.saveDeaf(n.Home, n.now())
	return err
}
