//go:build windows

package multicast

import (
	"net"
	"syscall"
	"unsafe"
)

// readBufferSizes reads SO_RCVBUF and SO_SNDBUF back; 0 when unknown.
func readBufferSizes(c *net.UDPConn) (recv, send int) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0
	}
	_ = raw.Control(func(fd uintptr) {
		recv = getsockoptInt(syscall.Handle(fd), syscall.SO_RCVBUF)
		send = getsockoptInt(syscall.Handle(fd), syscall.SO_SNDBUF)
	})
	return recv, send
}

func getsockoptInt(h syscall.Handle, opt int32) int {
	var v int32
	size := int32(unsafe.Sizeof(v))
	if err := syscall.Getsockopt(h, syscall.SOL_SOCKET, opt, (*byte)(unsafe.Pointer(&v)), &size); err != nil {
		return 0
	}
	return int(v)
}
