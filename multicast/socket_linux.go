//go:build linux

package multicast

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"
)

// Names of the limits that clamp SO_RCVBUF / SO_SNDBUF, for warnings.
const (
	recvBufferLimit = "net.core.rmem_max (sysctl -w net.core.rmem_max=N)"
	sendBufferLimit = "net.core.wmem_max (sysctl -w net.core.wmem_max=N)"
)

// groupSocketFile is an open socket and what the platform could set on it.
type groupSocketFile struct {
	pc      net.PacketConn
	buffers Buffers
	// filterDst is true when the socket may receive other groups' datagrams
	// and ReadBatch must drop them by destination address.
	filterDst bool
	// gro is true when the kernel may hand this socket coalesced datagrams
	// (UDP_GRO), which readBatch splits again.
	gro bool
}

// openGroupSocket opens a UDP socket that receives only datagrams sent to
// group. Go's net package would bind a multicast listener to the wildcard
// address, and Linux then delivers every group joined by any socket on the
// host for that port; so the socket is built by hand:
//   - SO_REUSEADDR so several processes can bind the same group and port
//     and each receives every datagram;
//   - IP_MULTICAST_ALL / IPV6_MULTICAST_ALL = 0 so only this socket's own
//     memberships are delivered;
//   - bound to the group address, so other destinations never match.
//
// A link- or interface-local IPv6 group needs a zone to bind; scope gives
// it, and when scope is nil (several interfaces) the socket binds to the
// wildcard and relies on IPV6_MULTICAST_ALL = 0 alone.
func openGroupSocket(group netip.AddrPort, scope *net.Interface, recvBuf, sendBuf int) (groupSocketFile, error) {
	is6 := group.Addr().Is6()
	domain := unix.AF_INET
	if is6 {
		domain = unix.AF_INET6
	}
	fd, err := unix.Socket(domain, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_UDP)
	if err != nil {
		return groupSocketFile{}, classifySocketError("open socket for", group, err)
	}
	sock, err := configureAndBind(fd, group, scope, recvBuf, sendBuf)
	if err != nil {
		unix.Close(fd)
		return groupSocketFile{}, err
	}
	file := os.NewFile(uintptr(fd), "multicast "+group.String())
	pc, err := net.FilePacketConn(file) // duplicates fd
	file.Close()
	if err != nil {
		return groupSocketFile{}, fmt.Errorf("multicast: wrap socket for %v: %w", group, err)
	}
	sock.pc = pc
	return sock, nil
}

// intOption is one integer socket option, named for error messages.
type intOption struct {
	name       string
	level, opt int
	value      int
}

func groupOptions(is6 bool) []intOption {
	reuse := intOption{"SO_REUSEADDR", unix.SOL_SOCKET, unix.SO_REUSEADDR, 1}
	if is6 {
		return []intOption{
			reuse,
			{"IPV6_V6ONLY", unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1},
			{"IPV6_MULTICAST_ALL", unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_ALL, 0},
		}
	}
	return []intOption{reuse, {"IP_MULTICAST_ALL", unix.IPPROTO_IP, unix.IP_MULTICAST_ALL, 0}}
}

func configureAndBind(fd int, group netip.AddrPort, scope *net.Interface, recvBuf, sendBuf int) (groupSocketFile, error) {
	opts := groupOptions(group.Addr().Is6())
	for _, o := range opts {
		if err := unix.SetsockoptInt(fd, o.level, o.opt, o.value); err != nil {
			return groupSocketFile{}, classifySocketError("set "+o.name+" on", group, err)
		}
	}
	// Best effort: a kernel without UDP_GRO delivers datagrams one by one.
	gro := unix.SetsockoptInt(fd, unix.SOL_UDP, unix.UDP_GRO, 1) == nil
	buffers, err := setBuffers(fd, recvBuf, sendBuf)
	if err != nil {
		return groupSocketFile{}, classifySocketError("set buffers on", group, err)
	}
	if err := unix.Bind(fd, bindAddr(group, scope)); err != nil {
		return groupSocketFile{}, classifySocketError("bind", group, err)
	}
	return groupSocketFile{buffers: buffers, gro: gro}, nil
}

func bindAddr(group netip.AddrPort, scope *net.Interface) unix.Sockaddr {
	port := int(group.Port())
	if group.Addr().Is4() {
		return &unix.SockaddrInet4{Port: port, Addr: group.Addr().As4()}
	}
	if !needsZone(group.Addr()) {
		return &unix.SockaddrInet6{Port: port, Addr: group.Addr().As16()}
	}
	if scope == nil {
		return &unix.SockaddrInet6{Port: port} // wildcard; see openGroupSocket
	}
	return &unix.SockaddrInet6{Port: port, Addr: group.Addr().As16(), ZoneId: uint32(scope.Index)}
}

// setBuffers sets SO_RCVBUF/SO_SNDBUF, first with the *FORCE variants that
// ignore net.core.[rw]mem_max when the process has CAP_NET_ADMIN, and reads
// the result back. Linux stores and reports twice the requested size (for
// bookkeeping overhead), so the read-back value is halved.
func setBuffers(fd, recvBuf, sendBuf int) (Buffers, error) {
	b := Buffers{RequestedRecv: recvBuf, RequestedSend: sendBuf}
	var err error
	if b.Recv, err = setBuffer(fd, unix.SO_RCVBUFFORCE, unix.SO_RCVBUF, recvBuf); err != nil {
		return b, err
	}
	if b.Send, err = setBuffer(fd, unix.SO_SNDBUFFORCE, unix.SO_SNDBUF, sendBuf); err != nil {
		return b, err
	}
	return b, nil
}

func setBuffer(fd, forceOpt, opt, size int) (int, error) {
	if size > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, forceOpt, size); err != nil {
			if !errors.Is(err, unix.EPERM) {
				return 0, err
			}
			// Unprivileged: the plain option silently clamps to the
			// sysctl limit; the read-back below reports it.
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, size); err != nil {
				return 0, err
			}
		}
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt)
	return got / 2, err
}
