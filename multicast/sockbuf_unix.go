//go:build unix && !linux

package multicast

import (
	"net"

	"golang.org/x/sys/unix"
)

// readBufferSizes reads SO_RCVBUF and SO_SNDBUF back; 0 when unknown.
func readBufferSizes(c *net.UDPConn) (recv, send int) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0
	}
	_ = raw.Control(func(fd uintptr) {
		recv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		send, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	return recv, send
}
