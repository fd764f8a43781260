//go:build !linux

package multicast

import "net"

// readBatch receives one datagram: x/net has no recvmmsg here. Datagrams
// for other groups, which some platforms deliver to a wildcard-bound
// socket, are dropped before they reach the caller.
func (c *UDPConn) readBatch(ms []Message) (int, error) {
	for {
		n, dst, src, err := c.fam.readFrom(ms[0].Buf)
		if err != nil {
			return 0, err
		}
		if c.filterDst && dst.IsValid() && dst != c.group.Addr().WithZone("") {
			continue
		}
		ms[0].N = n
		ms[0].Src = addrPortOf(src)
		return 1, nil
	}
}

// writeBatch sends one datagram per system call.
func (c *UDPConn) writeBatch(payloads [][]byte, dst *net.UDPAddr) (int, error) {
	for i, p := range payloads {
		if _, err := c.pc.WriteTo(p, dst); err != nil {
			return i, err
		}
	}
	return len(payloads), nil
}

// gsoState is empty where UDP GSO does not exist.
type gsoState struct{}

// groReader is empty where UDP GRO does not exist.
type groReader struct{}
