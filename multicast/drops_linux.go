//go:build linux

package multicast

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// socketDrops reads the kernel's drop counter of the socket (sk_drops:
// datagrams that arrived while its receive buffer was full). It is the
// counter SO_RXQ_OVFL attaches to every received datagram; reading it
// with getsockopt(SO_MEMINFO) when a status is due costs one system call
// every 100 ms instead of a control message parsed per datagram.
func (c *UDPConn) socketDrops() (uint64, bool) {
	sc, ok := c.pc.(syscall.Conn)
	if !ok {
		return 0, false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return 0, false
	}
	var mem [unix.SK_MEMINFO_VARS]uint32
	size := uint32(unsafe.Sizeof(mem))
	var errno unix.Errno
	if raw.Control(func(fd uintptr) {
		_, _, errno = unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
			uintptr(unsafe.Pointer(&mem[0])), uintptr(unsafe.Pointer(&size)), 0)
	}) != nil || errno != 0 || size < uint32(4*(unix.SK_MEMINFO_DROPS+1)) {
		return 0, false
	}
	return uint64(mem[unix.SK_MEMINFO_DROPS]), true
}
