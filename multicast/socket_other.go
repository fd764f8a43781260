//go:build !linux

package multicast

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"runtime"
)

// Names of the limits that clamp SO_RCVBUF / SO_SNDBUF, for warnings.
const (
	recvBufferLimit = "the OS socket buffer limit (kern.ipc.maxsockbuf on macOS and BSD)"
	sendBufferLimit = recvBufferLimit
)

// groupSocketFile is an open socket and what the platform could set on it.
type groupSocketFile struct {
	pc      net.PacketConn
	buffers Buffers
	// filterDst is true when ReadBatch must drop datagrams whose
	// destination is not the group.
	filterDst bool
	gro       bool // never set here
}

// openGroupSocket is the portable path: Go's net package binds a multicast
// listener to the wildcard address with SO_REUSEADDR (and SO_REUSEPORT on
// BSD). BSD and Windows deliver only groups joined on the socket itself;
// on platforms with destination control messages ReadBatch also checks
// each datagram's destination, so a Conn never sees another group.
func openGroupSocket(group netip.AddrPort, _ *net.Interface, recvBuf, sendBuf int) (groupSocketFile, error) {
	network := "udp4"
	if group.Addr().Is6() {
		network = "udp6"
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(context.Background(), network, netip.AddrPortFrom(group.Addr().WithZone(""), group.Port()).String())
	if err != nil {
		return groupSocketFile{}, classifySocketError("listen on", group, err)
	}
	udp, ok := pc.(*net.UDPConn)
	if !ok {
		pc.Close()
		return groupSocketFile{}, fmt.Errorf("multicast: listen on %v: unexpected %T", group, pc)
	}
	// Errors are not fatal: the read-back below reports what was granted.
	if recvBuf > 0 {
		_ = udp.SetReadBuffer(recvBuf)
	}
	if sendBuf > 0 {
		_ = udp.SetWriteBuffer(sendBuf)
	}
	b := Buffers{RequestedRecv: recvBuf, RequestedSend: sendBuf}
	b.Recv, b.Send = readBufferSizes(udp)
	return groupSocketFile{pc: udp, buffers: b, filterDst: runtime.GOOS != "windows"}, nil
}
