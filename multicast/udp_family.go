package multicast

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// groupSocket is what ipv4.PacketConn and ipv6.PacketConn have in common
// (ipv4.Message and ipv6.Message are the same type).
type groupSocket interface {
	JoinGroup(ifi *net.Interface, group net.Addr) error
	SetMulticastInterface(ifi *net.Interface) error
	SetMulticastLoopback(on bool) error
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

// family adapts the few calls whose names or types differ between IPv4
// and IPv6, so UDPConn has one code path for both.
type family struct {
	groupSocket
	setHops func(int) error
	// enableDst asks the kernel to attach each datagram's destination
	// address, for platforms that cannot filter by binding.
	enableDst func() error
	// readFrom reads one datagram; dst is invalid when the platform gave
	// no destination address.
	readFrom func(b []byte) (n int, dst netip.Addr, src net.Addr, err error)
}

func newFamily(pc net.PacketConn, is6 bool) family {
	if is6 {
		p := ipv6.NewPacketConn(pc)
		return family{
			groupSocket: p,
			setHops:     p.SetMulticastHopLimit,
			enableDst:   func() error { return p.SetControlMessage(ipv6.FlagDst, true) },
			readFrom: func(b []byte) (int, netip.Addr, net.Addr, error) {
				n, cm, src, err := p.ReadFrom(b)
				var dst netip.Addr
				if cm != nil {
					dst, _ = netip.AddrFromSlice(cm.Dst)
				}
				return n, dst.Unmap(), src, err
			},
		}
	}
	p := ipv4.NewPacketConn(pc)
	return family{
		groupSocket: p,
		setHops:     p.SetMulticastTTL,
		enableDst:   func() error { return p.SetControlMessage(ipv4.FlagDst, true) },
		readFrom: func(b []byte) (int, netip.Addr, net.Addr, error) {
			n, cm, src, err := p.ReadFrom(b)
			var dst netip.Addr
			if cm != nil {
				dst, _ = netip.AddrFromSlice(cm.Dst)
			}
			return n, dst.Unmap(), src, err
		},
	}
}

// addrPortOf converts a socket address to netip form, unmapping IPv4.
func addrPortOf(a net.Addr) netip.AddrPort {
	if u, ok := a.(*net.UDPAddr); ok {
		ap := u.AddrPort()
		return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	return netip.AddrPort{}
}

// udpAddrOf is the net.Addr form x/net wants for a destination.
func udpAddrOf(ap netip.AddrPort) *net.UDPAddr {
	return &net.UDPAddr{IP: ap.Addr().AsSlice(), Port: int(ap.Port()), Zone: ap.Addr().Zone()}
}
